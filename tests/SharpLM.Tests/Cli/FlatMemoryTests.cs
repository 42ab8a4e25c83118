using System.Text.Json;

namespace SharpLM.Tests.Cli;

/// <summary>
/// Memory stays flat over a long run: every tensor of a step is disposed with the step. The run is a
/// separate process, so that the other tests' allocations do not move its resident memory. It trains in
/// fp32: in bf16, oneDNN caches a compiled kernel per matrix shape (up to 1,024), which adds about 20 MiB
/// over the first thousands of steps of this run's many batch shapes and then stops; with
/// ONEDNN_PRIMITIVE_CACHE_CAPACITY=0 a bf16 run is as flat as fp32 (docs/pretraining.md).
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class FlatMemoryTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Resident_memory_after_5000_steps_is_within_10_percent_of_that_after_500()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string run = _temp.Of("run");
        var result = ChildProcessCli.RunUnder("", "pretrain", "--data", data, "--config", config, "--output", run, "--batch-size", "4",
            "--max-steps", "5000", "--log-every", "500", "--eval-every", "2500", "--save-every", "2500", "--warmup-steps", "10", "--precision", "fp32");
        Assert.True(result.ExitCode == 0, result.Error);
        var rss = File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(r => r.GetProperty("step").GetInt32(), r => r.GetProperty("rss_megabytes").GetDouble());
        Assert.Equal(Enumerable.Range(1, 10).Select(i => i * 500), rss.Keys);
        Assert.True(rss[5000] <= rss[500] * 1.10, $"RSS grew from {rss[500]} MiB at step 500 to {rss[5000]} MiB at step 5000: {string.Join(", ", rss.Values)}");
    }
}
