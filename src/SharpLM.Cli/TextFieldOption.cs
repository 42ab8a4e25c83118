using System.CommandLine;

namespace SharpLM.Cli;

/// <summary>The <c>--text-field</c> option of the verbs that read a corpus.</summary>
internal static class TextFieldOption
{
    /// <summary>The corpus formats, for the descriptions of input options.</summary>
    public const string Formats = "plain text (one sentence or paragraph per line, a blank line between documents), .jsonl, .parquet; .gz or .zst compressed text and JSON Lines; folders mixing them";

    /// <summary>A new option (System.CommandLine options belong to one command each).</summary>
    public static Option<string> Create() => new("--text-field")
    {
        Description = "The JSON Lines field or Parquet column holding each document's text.",
        DefaultValueFactory = _ => "text",
    };
}
