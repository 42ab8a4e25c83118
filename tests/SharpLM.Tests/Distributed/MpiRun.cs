using System.Diagnostics;
using SharpLM.Tests.Cli;

namespace SharpLM.Tests.Distributed;

/// <summary>
/// Starts the <c>sharplm</c> command line under Open MPI's real <c>mpirun</c> (Debian's openmpi-bin, which
/// tests/run.sh installs): N ranks of <c>dotnet SharpLM.Cli.dll</c> on this machine, not bound to cores.
/// </summary>
internal static class MpiRun
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "SharpLM.Cli.dll");

    /// <summary>Starts <paramref name="ranks"/> ranks of <c>sharplm args</c> with both streams redirected.</summary>
    public static Process Start(int ranks, params string[] args)
    {
        if (!File.Exists("/usr/bin/mpirun"))
            throw new InvalidOperationException("mpirun is not installed: apt-get install openmpi-bin libopenmpi-dev (tests/run.sh does).");
        var info = new ProcessStartInfo("/usr/bin/mpirun") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in new[] { "-np", ranks.ToString(), "--oversubscribe", "--bind-to", "none", "-x", "TERM=dumb", "dotnet", Dll }.Concat(args))
            info.ArgumentList.Add(arg);
        // Test machines run as root, which mpirun refuses unless told.
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        info.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        // Containers often forbid the cross-process memory reads (CMA) of Open MPI's shared-memory transport; copying
        // through the shared segment works everywhere and changes no result.
        info.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        return Process.Start(info)!;
    }

    /// <summary>Runs to the end (killed after <paramref name="timeout"/>), returning the exit code and both streams.</summary>
    public static CliRun Run(int ranks, TimeSpan timeout, params string[] args)
    {
        using var process = Start(ranks, args);
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"mpirun -np {ranks} sharplm {string.Join(' ', args)} ran past {timeout}: {error.Result}");
        }
        process.WaitForExit();
        return new CliRun(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Runs with the default timeout of two minutes.</summary>
    public static CliRun Run(int ranks, params string[] args) => Run(ranks, TimeSpan.FromMinutes(2), args);
}
