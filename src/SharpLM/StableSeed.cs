namespace SharpLM;

/// <summary>
/// Derives a seed from a seed and counters (epoch, step, example) the same way in every process, so
/// that a resumed run draws the same random numbers. (HashCode.Combine is randomised per process.)
/// </summary>
public static class StableSeed
{
    /// <summary>A 31-bit seed from <paramref name="parts"/>, mixed with SplitMix64.</summary>
    public static int Of(params long[] parts)
    {
        ulong state = 0x9E3779B97F4A7C15UL;
        foreach (long part in parts)
        {
            state += unchecked((ulong)part) + 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            state = z ^ (z >> 31);
        }
        return (int)(state & 0x7FFFFFFF);
    }

    /// <summary>
    /// The seed of dropout (and any other draw of the generator) for micro-batch <paramref name="microBatch"/> of
    /// <paramref name="step"/>, numbered over all ranks: whoever trains that micro-batch draws the same numbers. Micro-batch
    /// 0 keeps the seed a whole step had before steps were split, so runs of one micro-batch per step keep their curves.
    /// </summary>
    public static int ForMicroBatch(int seed, long step, long microBatch) =>
        microBatch == 0 ? Of(seed, step, 1) : Of(seed, step, 1, microBatch);
}
