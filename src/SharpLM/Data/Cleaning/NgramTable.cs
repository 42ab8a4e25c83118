namespace SharpLM.Data.Cleaning;

/// <summary>
/// Counts n-gram hashes of one document at a time: open addressing over arrays that are reused from
/// document to document (a stamp per slot says whether it belongs to the current document, so starting a
/// document costs nothing). The repetition rules count about ten n-gram sizes per document; a
/// Dictionary per size was a third of the cleaning time.
/// </summary>
internal sealed class NgramTable
{
    private ulong[] _keys = new ulong[1024];
    private int[] _counts = new int[1024];
    private int[] _stamps = new int[1024];
    private int _stamp;

    /// <summary>Starts a new count for up to <paramref name="items"/> distinct keys.</summary>
    public void Start(int items)
    {
        if (_keys.Length < 2 * items)
        {
            int size = (int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(2 * items)));
            (_keys, _counts, _stamps, _stamp) = (new ulong[size], new int[size], new int[size], 0);
        }
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(_stamps);
            _stamp = 1;
        }
    }

    /// <summary>Counts <paramref name="key"/> once more and returns its count so far.</summary>
    public int Increment(ulong key)
    {
        int mask = _keys.Length - 1;
        int slot = (int)(key & (ulong)mask);
        while (true)
        {
            if (_stamps[slot] != _stamp)
            {
                (_stamps[slot], _keys[slot], _counts[slot]) = (_stamp, key, 1);
                return 1;
            }
            if (_keys[slot] == key) return ++_counts[slot];
            slot = (slot + 1) & mask;
        }
    }
}
