using System.Text.Json;
using nietras.SeparatedValues;

namespace SharpLM.Tasks.Classification;

/// <summary>Which columns (or JSON fields) hold the text, the optional second text and the label.</summary>
public sealed record ClassificationColumns(string Text = "text", string TextPair = "text_pair", string Label = "label");

/// <summary>
/// Reads classification examples from CSV (RFC 4180, quoted fields may span lines), TSV or JSON lines,
/// chosen by the file extension (.csv, .tsv, .jsonl/.ndjson/.json). The first row of CSV and TSV is the
/// header. Labels are strings; a JSON number or boolean label is taken as its text.
/// </summary>
public static class ClassificationData
{
    /// <summary>Reads the examples of <paramref name="path"/>; with <paramref name="requireLabels"/>, every example must have a label.</summary>
    /// <exception cref="InvalidInputException">The file is unreadable, has no text column, a row without text, or (when required) without a label.</exception>
    public static List<ClassificationExample> Read(string path, ClassificationColumns? columns = null, bool requireLabels = true)
    {
        columns ??= new ClassificationColumns();
        string text = TaskFile.ReadText(path);
        string extension = Path.GetExtension(path).ToLowerInvariant();
        var examples = extension switch
        {
            ".csv" => ReadDelimited(path, text, ',', columns),
            ".tsv" or ".tab" => ReadDelimited(path, text, '\t', columns),
            ".jsonl" or ".ndjson" or ".json" => ReadJsonLines(path, text, columns),
            _ => throw new InvalidInputException($"{path}: unknown format '{extension}'; use .csv, .tsv or .jsonl."),
        };
        if (examples.Count == 0) throw new InvalidInputException($"{path}: no examples.");
        if (requireLabels && examples.FindIndex(e => e.Label is null) is int missing and >= 0)
            throw new InvalidInputException($"{path}: example {missing + 1} has no '{columns.Label}'.");
        return examples;
    }

    private static List<ClassificationExample> ReadDelimited(string path, string text, char delimiter, ClassificationColumns columns)
    {
        // TSV rarely quotes: there a stray quote inside a field is text.
        var options = new SepReaderOptions(new Sep(delimiter)) { HasHeader = true, Unescape = delimiter != '\t', DisableQuotesParsing = delimiter == '\t', DisableColCountCheck = true };
        var examples = new List<ClassificationExample>();
        try
        {
            using var reader = options.FromText(text);
            var header = reader.Header;
            int Column(string name) => header.TryIndexOf(name, out int index) ? index : -1;
            int textColumn = Column(columns.Text), pairColumn = Column(columns.TextPair), labelColumn = Column(columns.Label);
            if (textColumn < 0)
                throw new InvalidInputException($"{path}: no '{columns.Text}' column in the header ({string.Join(", ", header.ColNames)}); name it with --text-column.");
            foreach (var row in reader)
            {
                int count = row.ColCount;
                string? value = textColumn < count ? row[textColumn].ToString() : null;
                if (string.IsNullOrEmpty(value)) throw new InvalidInputException($"{path}: line {row.LineNumberFrom} has no '{columns.Text}'.");
                string? pair = pairColumn >= 0 && pairColumn < count ? row[pairColumn].ToString() : null;
                string? label = labelColumn >= 0 && labelColumn < count ? row[labelColumn].ToString() : null;
                examples.Add(new ClassificationExample(value, pair, NullIfEmpty(label)));
            }
        }
        catch (Exception e) when (e is InvalidDataException or ArgumentException)
        {
            throw new InvalidInputException($"{path}: not valid {(delimiter == ',' ? "CSV" : "TSV")} ({e.Message}).");
        }
        return examples;
    }

    private static List<ClassificationExample> ReadJsonLines(string path, string text, ClassificationColumns columns)
    {
        var examples = new List<ClassificationExample>();
        int lineNumber = 0;
        foreach (string line in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonElement row;
            try { row = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new InvalidInputException($"{path}: line {lineNumber} is not valid JSON ({e.Message})."); }
            if (row.ValueKind != JsonValueKind.Object) throw new InvalidInputException($"{path}: line {lineNumber} is not a JSON object.");
            string? Field(string name) => row.TryGetProperty(name, out var v) ? v.ValueKind switch
            {
                JsonValueKind.String => v.GetString(),
                JsonValueKind.Null => null,
                JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => v.GetRawText(),
                _ => throw new InvalidInputException($"{path}: line {lineNumber}: '{name}' must be a string."),
            } : null;
            string? value = Field(columns.Text);
            if (string.IsNullOrEmpty(value)) throw new InvalidInputException($"{path}: line {lineNumber} has no '{columns.Text}'.");
            examples.Add(new ClassificationExample(value, Field(columns.TextPair), NullIfEmpty(Field(columns.Label))));
        }
        return examples;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;
}
