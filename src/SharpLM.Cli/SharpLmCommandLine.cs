using System.CommandLine;
using System.Runtime.InteropServices;
using SharpLM.Distributed;

namespace SharpLM.Cli;

/// <summary>
/// Builds the verb tree and runs it. Every failure the user can fix (a missing file, invalid UTF-8, a
/// bad vocabulary) is printed as one line naming the file and the problem, with exit code 1 and no
/// stack trace; a wrong command line gets the parser's message and exit code 2.
/// </summary>
public static class SharpLmCommandLine
{
    /// <summary>Exit code for a failure with the user's input or the machine (disk full, permissions).</summary>
    public const int InputError = 1;

    /// <summary>Exit code for a command line that does not parse.</summary>
    public const int UsageError = 2;

    /// <summary>
    /// Parses <paramref name="args"/> and runs the verb, writing to the given streams. Under mpirun, ranks other than
    /// 0 write nothing, and a failure on any rank ends every rank (see <see cref="FailRun"/>).
    /// </summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (ProcessGroup.LaunchedRank is > 0) output = error = TextWriter.Null;
        try { return RunVerb(args, output, error); }
        catch (Exception e) when (ProcessGroup.Joined is { IsDistributed: true } group)
        {
            FailRun(group, e);
            throw;
        }
    }

    private static int RunVerb(string[] args, TextWriter output, TextWriter error)
    {
        var context = new CommandContext(output, error);
        var root = new RootCommand("SharpLM: build a vocabulary, tokenize text, pretrain, evaluate, fine-tune and export BERT models, in .NET.")
        {
            QuickstartCommand.Create(context),
            VocabCommand.Create(context),
            TokenizeCommand.Create(context),
            EmbedCommand.Create(context),
            FillMaskCommand.Create(context),
            GenerateCommand.Create(context),
            DataCommand.Create(context),
            PretrainCommand.Create(context),
            EvalCommand.Create(context),
            PlotCommand.Create(context),
            FinetuneCommand.Create(context),
            DistillCommand.Create(context),
            PredictCommand.Create(context),
            EvaluateCommand.Create(context),
            ExportCommand.Create(context),
            ServeCommand.Create(context),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var problem in parse.Errors) error.WriteLine($"error: {problem.Message}");
            error.WriteLine("Run 'sharplm --help' (or 'sharplm VERB --help') for usage.");
            return UsageError;
        }
        try
        {
            // Ctrl+C (SIGINT) and SIGTERM cancel the token the verbs take, so that they stop cleanly: pretrain saves a
            // checkpoint, data clean removes its unfinished shards. (System.CommandLine 2.0.0 installs no handler by
            // default, dotnet/command-line-api#2739.) A second signal ends the process at once.
            using var stop = new CancellationTokenSource();
            void Stop(PosixSignalContext signal)
            {
                if (stop.IsCancellationRequested) return;
                signal.Cancel = true;
                stop.Cancel();
            }
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
            using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            return parse.InvokeAsync(new InvocationConfiguration
            {
                Output = output,
                Error = error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            }, stop.Token).GetAwaiter().GetResult();
        }
        catch (Exception e) when ((Unwrap(e) is InvalidInputException or IOException or UnauthorizedAccessException) && ProcessGroup.Joined is not { IsDistributed: true })
        {
            error.WriteLine($"error: {Unwrap(e).Message}");
            return InputError;
        }
    }

    /// <summary>
    /// Ends a distributed run that failed on this rank: one line naming the rank and the problem, then MPI_Abort, so
    /// that no other rank waits forever in a collective. A failure every rank meets (a bad file, a NaN loss) is
    /// reported once: the other ranks give rank 0 two seconds to abort first.
    /// </summary>
    private static void FailRun(ProcessGroup group, Exception e)
    {
        var failure = Unwrap(e);
        bool expected = failure is InvalidInputException or IOException or UnauthorizedAccessException;
        if (!group.IsRoot) Thread.Sleep(TimeSpan.FromSeconds(2));
        using var stderr = new StreamWriter(Console.OpenStandardError()) { AutoFlush = true };
        stderr.WriteLine($"error: rank {group.Rank} of {group.Size}: {(expected ? failure.Message : failure.ToString())}");
        group.Abort(expected ? InputError : 3);
    }

    private static Exception Unwrap(Exception e) =>
        e is AggregateException { InnerExceptions.Count: 1 } aggregate ? Unwrap(aggregate.InnerExceptions[0]) : e;
}

/// <summary>Where a verb writes: results to <see cref="Output"/>, progress and warnings to <see cref="Error"/>.</summary>
public sealed record CommandContext(TextWriter Output, TextWriter Error);
