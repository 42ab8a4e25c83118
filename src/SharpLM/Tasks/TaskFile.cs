using SharpLM.Data;

namespace SharpLM.Tasks;

/// <summary>
/// Reads a whole task file (CSV, TSV, JSON lines, CoNLL, SQuAD JSON) with the corpus reader's checks
/// (missing or empty file, invalid UTF-8, NUL bytes) but no line-length limit: SQuAD's JSON is often one
/// line of megabytes. Line ends come back as \n.
/// </summary>
public static class TaskFile
{
    /// <summary>The text of <paramref name="path"/>, without a byte-order mark.</summary>
    /// <exception cref="InvalidInputException">The path is missing, a folder, an empty file, binary or not UTF-8.</exception>
    public static string ReadText(string path)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path}: is a folder; give a data file.");
        return string.Join('\n', TextFileLines.Read(CorpusFiles.Expand([path]).Single(), maxLineLength: int.MaxValue));
    }
}
