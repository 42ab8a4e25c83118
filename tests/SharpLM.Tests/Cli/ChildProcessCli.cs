using System.Diagnostics;

namespace SharpLM.Tests.Cli;

/// <summary>
/// Starts the <c>sharplm</c> command line as a separate process (the test output folder holds
/// SharpLM.Cli.dll with its runtimeconfig), for what an in-process run cannot show: kill -9, or
/// limits on the process such as the size of the files it may write.
/// </summary>
internal static class ChildProcessCli
{
    private static string Dll => Path.Combine(AppContext.BaseDirectory, "SharpLM.Cli.dll");

    /// <summary>Starts <c>dotnet SharpLM.Cli.dll args</c> with stdout and stderr redirected.</summary>
    public static Process Start(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Dll);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        return Process.Start(info)!;
    }

    /// <summary>
    /// Runs the command line through <c>sh -c</c> so that <paramref name="shellPrefix"/> (such as
    /// <c>ulimit -f 64;</c>) applies to it alone, and returns its exit code and both streams.
    /// </summary>
    public static CliRun RunUnder(string shellPrefix, params string[] args)
    {
        var info = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add($"{shellPrefix} exec dotnet \"$0\" \"$@\"");
        info.ArgumentList.Add(Dll);
        foreach (string arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return new CliRun(process.ExitCode, output, error.Result);
    }
}
