using System.CommandLine;

namespace SharpLM.Cli;

/// <summary>
/// The <c>--threads</c> option of the training verbs: intra-op threads per process. Under mpirun the default is
/// this machine's cores shared among the ranks on it, so that ranks do not fight over cores.
/// </summary>
internal static class TrainingThreadsOption
{
    /// <summary>A new option (System.CommandLine options belong to one command each).</summary>
    public static Option<int> Create() => new("--threads")
    {
        Description = "CPU threads for tensor work, per process (default: the core count; under mpirun, the cores shared among this machine's ranks).",
        DefaultValueFactory = _ => Math.Max(1, Environment.ProcessorCount / Math.Max(1, RanksOnThisMachine)),
    };

    /// <summary>Sets TorchSharp's intra-op threads from the option; at least one.</summary>
    public static int Apply(ParseResult parse, Option<int> option)
    {
        int threads = parse.GetValue(option);
        if (threads < 1) throw new InvalidInputException($"--threads {threads}: must be at least 1.");
        TorchSharp.torch.set_num_threads(threads);
        return threads;
    }

    // Open MPI sets it before the program starts; 1 for a process started without mpirun.
    private static int RanksOnThisMachine =>
        int.TryParse(Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_LOCAL_SIZE"), out int ranks) ? ranks : 1;
}
