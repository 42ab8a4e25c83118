namespace SharpLM.Bench;

/// <summary>The median of a benchmark's rounds: robust to the one round the machine's drift spoils.</summary>
internal static class Median
{
    /// <summary>The middle value, or the mean of the two middle values of an even count.</summary>
    public static double Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
