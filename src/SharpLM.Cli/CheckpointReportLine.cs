using SharpLM.Interop;

namespace SharpLM.Cli;

/// <summary>Tells the user, as Hugging Face does, which weights a checkpoint lacked or had to spare.</summary>
public static class CheckpointReportLine
{
    /// <summary>Writes one note per kind to the error stream; nothing when the checkpoint fit exactly.</summary>
    public static void Write(CommandContext context, string directory, CheckpointLoadReport report)
    {
        if (report.Missing.Count > 0)
            context.Error.WriteLine($"note: {directory}: {report.Missing.Count} weight(s) not in the checkpoint, left as initialised: {Sample(report.Missing)}");
        if (report.Unexpected.Count > 0)
            context.Error.WriteLine($"note: {directory}: {report.Unexpected.Count} weight(s) in the checkpoint not used by this model: {Sample(report.Unexpected)}");
    }

    private static string Sample(IReadOnlyList<string> names) =>
        string.Join(", ", names.Take(3)) + (names.Count > 3 ? $", ... ({names.Count - 3} more)" : "");
}
