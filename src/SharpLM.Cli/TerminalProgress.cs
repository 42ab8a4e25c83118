using SharpLM.Training;
using Spectre.Console;

namespace SharpLM.Cli;

/// <summary>
/// A live progress bar (Spectre.Console) for training on an interactive terminal: step, loss, learning
/// rate and tokens/s in the description, the bar following steps or the time budget, and the time
/// remaining. When the error stream is not a terminal (a log file, CI), plain lines are written instead.
/// </summary>
public static class TerminalProgress
{
    /// <summary>True when <paramref name="context"/> writes to an interactive terminal.</summary>
    public static bool IsAvailable(CommandContext context) => IsAvailableFor(context.Error);

    /// <summary>True when <paramref name="writer"/> is the process's error stream and that is a terminal.</summary>
    public static bool IsAvailableFor(TextWriter writer) =>
        ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected && Environment.GetEnvironmentVariable("CI") is null;

    /// <summary>Runs <paramref name="trainer"/> under a progress bar on the error stream.</summary>
    public static EvaluationMetrics? Run(PretrainingTrainer trainer, PretrainingOptions options, CancellationToken cancellation)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        EvaluationMetrics? metrics = null;
        var started = DateTime.UtcNow;
        console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var task = progress.AddTask("starting", maxValue: 1000);
                trainer.Logged += record =>
                {
                    double done = options.MaxTime is { } budget
                        ? (DateTime.UtcNow - started) / budget
                        : (double)record.Step / options.MaxSteps;
                    task.Value = Math.Min(1000, 1000 * done);
                    task.Description = Markup.Escape($"step {record.Step} loss {record.Loss:F4} lr {record.LearningRate:E2} {record.TokensPerSecond:F0} tokens/s");
                };
                metrics = trainer.Run(cancellation);
                task.Value = 1000;
            });
        return metrics;
    }
}
