using System.Security.Cryptography;
using SharpLM.Training;

namespace SharpLM.Tests.Cli;

/// <summary>
/// A save that runs out of room: the child process may write no file larger than 32 KiB (ulimit -f,
/// with SIGXFSZ ignored so that the write fails with EFBIG as it would with ENOSPC on a full disk).
/// The runtime's write-xor-execute double mapping needs a large file of its own, so it is turned off
/// for this process.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class DiskFullTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void A_checkpoint_save_that_runs_out_of_room_fails_cleanly_and_leaves_the_last_checkpoint_and_model_intact()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string run = _temp.Of("run");
        string[] arguments = ["pretrain", "--data", data, "--config", config, "--output", run, "--batch-size", "8", "--save-every", "2", "--eval-every", "0"];
        var first = CliRun.Of([.. arguments, "--max-steps", "2"]);
        Assert.True(first.ExitCode == 0, first.Error);
        var before = Snapshot(run);
        Assert.Contains(Path.Combine("model", "model.safetensors"), before.Keys);

        var full = ChildProcessCli.RunUnder("ulimit -f 64; trap '' XFSZ; DOTNET_EnableWriteXorExecute=0", [.. arguments, "--max-steps", "4", "--resume"]);

        Assert.Equal(SharpLM.Cli.SharpLmCommandLine.InputError, full.ExitCode);
        Assert.StartsWith("error: ", full.Error.Split('\n').Single(l => l.StartsWith("error: ", StringComparison.Ordinal)));
        Assert.Contains("step-0000004: the checkpoint of step 4 could not be written", full.Error);
        Assert.Contains("model.safetensors", full.Error);
        Assert.Contains("step-0000002, is untouched", full.Error);
        Assert.DoesNotContain("   at ", full.Error);
        var after = Snapshot(run);
        foreach (var (file, hash) in before.Where(f => !f.Key.StartsWith("metrics", StringComparison.Ordinal)))
            Assert.True(after.TryGetValue(file, out string? now) && now == hash, $"{file} changed");
        Assert.DoesNotContain(after.Keys, f => f.Contains(".tmp", StringComparison.Ordinal));
        string latest = PretrainingTrainer.LatestCheckpoint(run)!;
        Assert.EndsWith("step-0000002", latest);
        CheckpointManifest.Verify(latest);
    }

    private static Dictionary<string, string> Snapshot(string folder) => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
        .ToDictionary(f => Path.GetRelativePath(folder, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
}
