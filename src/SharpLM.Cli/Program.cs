namespace SharpLM.Cli;

/// <summary>The <c>sharplm</c> command.</summary>
public static class Program
{
    /// <summary>Entry point: runs the command line with the process's console.</summary>
    public static int Main(string[] args)
    {
        try { return SharpLmCommandLine.Run(args, Console.Out, Console.Error); }
        finally { SharpLM.Distributed.ProcessGroup.Leave(); }
    }
}
