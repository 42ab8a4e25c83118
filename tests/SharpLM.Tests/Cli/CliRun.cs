using SharpLM.Cli;

namespace SharpLM.Tests.Cli;

/// <summary>Runs the <c>sharplm</c> command line in-process and captures what it prints.</summary>
internal sealed record CliRun(int ExitCode, string Output, string Error)
{
    public static CliRun Of(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = SharpLmCommandLine.Run(args, output, error);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    /// <summary>Asserts a clean failure: exit code 1, one error line naming the file, no stack trace.</summary>
    public void AssertFailsNaming(string path, string problem)
    {
        Assert.Equal(SharpLmCommandLine.InputError, ExitCode);
        Assert.StartsWith("error: ", Error);
        Assert.Contains(path, Error);
        Assert.Contains(problem, Error);
        Assert.DoesNotContain("   at ", Error);
        Assert.DoesNotContain("Exception", Error);
    }
}
