using Xunit.Abstractions;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using SharpLM.Training;

namespace SharpLM.Tests.Cli;

/// <summary>
/// <c>sharplm pretrain</c> killed with SIGKILL at random moments and resumed with --resume ends exactly
/// where an uninterrupted run ends. SHARPLM_KILLS sets the number of kills (bench/kill-resume.sh runs 20).
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class KillResumeTests(ITestOutputHelper log) : IDisposable
{
    private const int Steps = 40;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Kill_9_at_random_moments_then_resume_gives_the_uninterrupted_losses_and_weights()
    {
        int kills = int.TryParse(Environment.GetEnvironmentVariable("SHARPLM_KILLS"), out int k) ? k : 3;
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string[] Arguments(string run) => ["pretrain", "--data", data, "--output", run, "--config", config, "--batch-size", "8",
            "--max-steps", Steps.ToString(), "--warmup-steps", "4", "--save-every", "3", "--log-every", "1", "--eval-every", "0",
            "--seed", "11", "--resume"];

        string reference = _temp.Of("uninterrupted");
        using (var once = ChildProcessCli.Start(Arguments(reference)))
        {
            string error = once.StandardError.ReadToEnd();
            once.WaitForExit();
            Assert.True(once.ExitCode == 0, error);
        }

        string killed = _temp.Of("killed");
        var random = new Random(Environment.TickCount);
        var killedAt = new List<int>();
        for (int kill = 0; kill < kills; kill++)
        {
            using var child = ChildProcessCli.Start(Arguments(killed));
            // Kill after a random logged step, then a random fraction of a step, so that some kills land
            // inside a checkpoint save; a process that finished first is simply not killed.
            int startStep = Checkpoint(killed) is string c ? JsonSerializer.Deserialize<PretrainingTrainer.CheckpointState>(File.ReadAllText(Path.Combine(c, "trainer_state.json")))!.Step : 0;
            int target = Math.Min(Steps - 1, startStep + random.Next(1, 8));
            string? line;
            while ((line = child.StandardError.ReadLine()) is not null)
                if (line.StartsWith("step ", StringComparison.Ordinal) && int.Parse(line.Split('|')[0][5..].Trim()) >= target) break;
            Thread.Sleep(random.Next(0, 60));
            child.Kill(entireProcessTree: true);
            child.WaitForExit();
            killedAt.Add(target);
            // Whatever the moment of the kill, the latest checkpoint is a complete one.
            string? latest = Checkpoint(killed);
            if (latest is not null) CheckpointManifest.Verify(latest);
            bool midSave = Directory.Exists(Path.Combine(killed, "checkpoints")) && Directory.GetDirectories(Path.Combine(killed, "checkpoints"), ".step-*").Length > 0;
            log.WriteLine($"kill {kill + 1}: once step {target} was logged; latest {(latest is null ? "none" : Path.GetFileName(latest))}{(midSave ? "; killed inside a checkpoint save" : "")}");
        }
        using (var last = ChildProcessCli.Start(Arguments(killed)))
        {
            string error = last.StandardError.ReadToEnd();
            last.WaitForExit();
            Assert.True(last.ExitCode == 0, error);
        }

        var expected = Losses(reference);
        Assert.Equal(Enumerable.Range(1, Steps), expected.Keys);
        Assert.Equal(expected, Losses(killed));
        Assert.Equal(Sha256(Path.Combine(reference, "model", "model.safetensors")), Sha256(Path.Combine(killed, "model", "model.safetensors")));
        Assert.Equal(kills, killedAt.Count);
    }

    private static string? Checkpoint(string run) => PretrainingTrainer.LatestCheckpoint(run);

    // Each step's loss as metrics.jsonl writes it: the text of the number, so equality is bit-exact.
    private static SortedDictionary<int, string> Losses(string run) => new(File.ReadLines(Path.Combine(run, "metrics.jsonl"))
        .Select(l => JsonDocument.Parse(l).RootElement)
        .ToDictionary(r => r.GetProperty("step").GetInt32(), r => r.GetProperty("loss").GetRawText()));

    private static string Sha256(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));
}
