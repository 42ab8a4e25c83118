using System.Runtime.InteropServices;

namespace SharpLM.Tests.Cli;

/// <summary>Ctrl+C (SIGINT) and SIGTERM reach the verbs as a cancellation: they stop cleanly instead of dying.</summary>
public class InterruptTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private const int SIGINT = 2;

    [Fact]
    public void Ctrl_C_stops_pretraining_with_a_checkpoint_to_resume_from()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string run = _temp.Of("run");
        using var child = ChildProcessCli.Start("pretrain", "--data", data, "--output", run, "--config", config, "--batch-size", "8",
            "--max-time", "10m", "--log-every", "1", "--eval-every", "0", "--save-every", "100000");
        var seen = new System.Text.StringBuilder();
        string? line;
        while ((line = child.StandardError.ReadLine()) is not null)
        {
            seen.AppendLine(line);
            if (line.StartsWith("step ")) break;
        }
        Assert.True(line is not null, $"no step was logged:\n{seen}");
        Assert.Equal(0, kill(child.Id, SIGINT));
        string rest = child.StandardError.ReadToEnd();
        Assert.True(child.WaitForExit(TimeSpan.FromMinutes(2)), "still running two minutes after Ctrl+C");
        Assert.Equal(0, child.ExitCode);
        Assert.Matches(@"stopped at step \d+; continue with --resume", rest);
        Assert.True(File.Exists(Path.Combine(run, "checkpoints", "latest")), rest);
    }
}
