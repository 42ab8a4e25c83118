using System.Text;
using System.Text.Json;

namespace SharpLM.Data;

/// <summary>One document of a corpus as it was read: its text (lines joined by <c>\n</c>), the file, and its place there.</summary>
/// <param name="Text">The document's text.</param>
/// <param name="File">The file it came from.</param>
/// <param name="Position">Where in the file: the line of a JSON Lines record, the row of a Parquet record, the first line of a text document.</param>
public readonly record struct CorpusText(string Text, string File, long Position);

/// <summary>
/// Reads the documents of files and folders in any corpus format SharpLM knows (<see cref="CorpusFileFormat"/>),
/// streamed: plain text in Google's format (a blank line between documents), JSON Lines and Parquet
/// (one document per record, in the field or column <see cref="TextField"/>), each of the text formats
/// also gzip- or Zstandard-compressed. A folder may mix them; files are read in the order
/// <see cref="CorpusFiles.Expand"/> gives.
/// </summary>
/// <param name="textField">The JSON field or Parquet column holding the text (Hugging Face datasets call it <c>text</c>).</param>
public sealed class CorpusTexts(string textField = "text")
{
    /// <summary>The JSON field or Parquet column holding each document's text.</summary>
    public string TextField { get; } = string.IsNullOrEmpty(textField) ? throw new InvalidInputException("--text-field: must not be empty.") : textField;

    /// <summary>Records skipped because their text was null (Parquet) or missing-as-null (JSON <c>null</c>).</summary>
    public long NullRecords { get; private set; }

    private Func<double>? _fileFraction;

    /// <summary>Files read so far, the one being read included.</summary>
    public int FilesStarted { get; private set; }

    /// <summary>How far through the file being read, from 0 to 1 (by bytes on disk, or by Parquet row groups).</summary>
    public double FileFraction => _fileFraction?.Invoke() ?? 0;

    /// <summary>Every document of <paramref name="paths"/>, in order; a text document of only blank lines is not one.</summary>
    public IEnumerable<CorpusText> Read(IEnumerable<string> paths)
    {
        foreach (string file in CorpusFiles.Expand(paths))
        {
            FilesStarted++;
            foreach (var text in ReadFile(file))
                yield return text;
        }
    }

    /// <summary>
    /// The lines of every document, for word counting: a text file's own lines, and each record of the
    /// other formats cut at its line ends.
    /// </summary>
    public IEnumerable<string> ReadLines(IEnumerable<string> paths)
    {
        foreach (string file in CorpusFiles.Expand(paths))
        {
            if (CorpusFileFormat.Of(file).Layout == CorpusLayout.Text)
            {
                foreach (string line in TextFileLines.Read(file)) yield return line;
                continue;
            }
            foreach (var document in ReadFile(file))
                foreach (string line in document.Text.Split('\n'))
                    yield return line;
        }
    }

    /// <summary>The documents of one file.</summary>
    public IEnumerable<CorpusText> ReadFile(string file) => CorpusFileFormat.Of(file).Layout switch
    {
        CorpusLayout.Parquet => ReadParquet(file),
        CorpusLayout.JsonLines => ReadJsonLines(file),
        _ => ReadText(file),
    };

    private IEnumerable<string> Lines(string file)
    {
        var stream = DecompressedFile.Open(file, out var onDisk);
        long length = Math.Max(1, onDisk.Length);
        // Read from the progress timer's thread while this one reads: a closed file has been read to the end.
        _fileFraction = () =>
        {
            try { return Math.Min(1, onDisk.Position / (double)length); }
            catch (ObjectDisposedException) { return 1; }
        };
        return TextFileLines.Read(stream, file);
    }

    private IEnumerable<CorpusText> ReadText(string file)
    {
        var document = new StringBuilder();
        long first = 0, number = 0;
        foreach (string line in Lines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line))
            {
                if (document.Length > 0) yield return new CorpusText(document.ToString(), file, first);
                document.Clear();
                continue;
            }
            if (document.Length == 0) first = number;
            else document.Append('\n');
            document.Append(line);
        }
        if (document.Length > 0) yield return new CorpusText(document.ToString(), file, first);
    }

    private IEnumerable<CorpusText> ReadJsonLines(string file)
    {
        long number = 0;
        foreach (string line in Lines(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? text = Field(line, file, number);
            if (text is null) NullRecords++;
            else yield return new CorpusText(text, file, number);
        }
    }

    private string? Field(string line, string file, long number)
    {
        try
        {
            using var json = JsonDocument.Parse(line);
            if (json.RootElement.ValueKind != JsonValueKind.Object || !json.RootElement.TryGetProperty(TextField, out var value))
                throw new InvalidInputException($"{file}: line {number} has no field \"{TextField}\" (choose the text field with --text-field).");
            return value.ValueKind switch
            {
                JsonValueKind.String => value.GetString(),
                JsonValueKind.Null => null,
                _ => throw new InvalidInputException($"{file}: line {number}: field \"{TextField}\" holds {value.ValueKind.ToString().ToLowerInvariant()}, not a string."),
            };
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{file}: line {number} is not valid JSON ({e.Message}).");
        }
    }

    private IEnumerable<CorpusText> ReadParquet(string file)
    {
        long row = 0;
        int group = 0, groups = 1;
        _fileFraction = () => group / (double)groups;
        foreach (string text in ParquetTextColumn.Read(file, TextField, () => { row++; NullRecords++; }, (g, n) => (group, groups) = (g, n)))
            yield return new CorpusText(text, file, ++row);
    }
}
