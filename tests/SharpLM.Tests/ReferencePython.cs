using System.Diagnostics;

namespace SharpLM.Tests;

/// <summary>Runs a script of tests/reference/ with Debian's python3 and python3-torch (.ci/run installs them).</summary>
internal static class ReferencePython
{
    // Debian's interpreter: python3-torch installs there, whatever python3 comes first on PATH.
    private const string Python = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> (a file name in tests/reference/) with <paramref name="args"/>; fails the test if it fails.</summary>
    public static void Run(string script, params string[] args)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "reference", script);
        Assert.True(File.Exists(Python), $"{Python} not found: the reference tests need Debian's python3 with python3-torch (tests/run.sh installs it)");
        var start = new ProcessStartInfo(Python) { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(path);
        foreach (string arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        var errors = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), $"{script} did not finish in 2 minutes");
        Assert.True(process.ExitCode == 0, $"{script} failed (is python3-torch installed?):\n{errors.Result}");
    }
}
