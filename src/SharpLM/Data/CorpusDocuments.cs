using System.Text.Json;

namespace SharpLM.Data;

/// <summary>
/// Reads a pretraining corpus as documents of sentences, streamed. Two formats: text files in Google's
/// BERT format (one sentence per line, a blank line between documents; a line holding a whole
/// paragraph is split into sentences), and JSON Lines (<c>.jsonl</c>: one document per line,
/// <c>{"text": ...}</c>, its paragraphs split into sentences). Empty sentences are dropped, and so are
/// exact repeats of a line seen recently (repeated boilerplate lines are a known cause of a masked-LM
/// loss stuck near 7).
/// </summary>
public sealed class CorpusDocuments
{
    /// <summary>How many distinct line fingerprints the duplicate filter remembers before it starts afresh (8 bytes each).</summary>
    public const int DuplicateWindow = 1 << 22;

    private readonly HashSet<ulong> _seen = new();

    /// <summary>Lines dropped as exact duplicates so far.</summary>
    public long DuplicatesDropped { get; private set; }

    /// <summary>Every non-empty document of the files and folders in <paramref name="paths"/>, in order.</summary>
    public IEnumerable<List<string>> Read(IEnumerable<string> paths)
    {
        foreach (string file in CorpusFiles.Expand(paths))
        {
            var documents = file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? ReadJsonLines(file) : ReadText(file);
            foreach (var document in documents)
                if (document.Count > 0) yield return document;
        }
    }

    private IEnumerable<List<string>> ReadText(string file)
    {
        var document = new List<string>();
        foreach (string line in TextFileLines.Read(file))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                if (document.Count > 0) yield return document;
                document = new List<string>();
                continue;
            }
            if (IsDuplicate(line)) continue;
            document.AddRange(SentenceSplitter.Split(line));
        }
        if (document.Count > 0) yield return document;
    }

    private IEnumerable<List<string>> ReadJsonLines(string file)
    {
        int number = 0;
        foreach (string line in TextFileLines.Read(file))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string? text;
            try
            {
                using var json = JsonDocument.Parse(line);
                text = json.RootElement.ValueKind == JsonValueKind.Object && json.RootElement.TryGetProperty("text", out var value) && value.ValueKind == JsonValueKind.String
                    ? value.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new InvalidInputException($"{file}: line {number} is not valid JSON ({e.Message}).");
            }
            if (text is null) throw new InvalidInputException($"{file}: line {number} has no string field \"text\".");
            var document = new List<string>();
            foreach (string paragraph in text.Split('\n'))
                if (!string.IsNullOrWhiteSpace(paragraph) && !IsDuplicate(paragraph))
                    document.AddRange(SentenceSplitter.Split(paragraph));
            yield return document;
        }
    }

    private bool IsDuplicate(string line)
    {
        ulong fingerprint = Fingerprint(line.AsSpan().Trim());
        if (_seen.Count >= DuplicateWindow) _seen.Clear();
        if (_seen.Add(fingerprint)) return false;
        DuplicatesDropped++;
        return true;
    }

    // 64-bit FNV-1a: with a few million lines in the window, a false "duplicate" has odds near 1e-6.
    private static ulong Fingerprint(ReadOnlySpan<char> text)
    {
        ulong hash = 14695981039346656037UL;
        foreach (char c in text) hash = (hash ^ c) * 1099511628211UL;
        return hash;
    }
}
