using System.Text.Json;

namespace SharpLM.Tests.Cli;

/// <summary>What a training run's metrics.jsonl recorded.</summary>
internal static class MetricsFile
{
    /// <summary>The loss of every logged step of the run in <paramref name="run"/>, in order.</summary>
    public static List<double> Losses(string run) => File.ReadAllLines(Path.Combine(run, "metrics.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToList();
}
