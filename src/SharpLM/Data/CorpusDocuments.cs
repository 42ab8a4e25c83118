namespace SharpLM.Data;

/// <summary>
/// Reads a pretraining corpus as documents of sentences, streamed, from any format
/// <see cref="CorpusTexts"/> reads: Google's BERT text format (one sentence per line, a blank line
/// between documents; a line holding a whole paragraph is split into sentences), and JSON Lines or
/// Parquet (one document per record, its paragraphs split into sentences), plain or compressed. Empty
/// sentences are dropped, and so are exact repeats of a line seen recently (repeated boilerplate
/// lines are a known cause of a masked-LM loss stuck near 7).
/// </summary>
/// <param name="textField">The JSON field or Parquet column holding each document's text.</param>
public sealed class CorpusDocuments(string textField = "text")
{
    /// <summary>How many distinct line fingerprints the duplicate filter remembers before it starts afresh (8 bytes each).</summary>
    public const int DuplicateWindow = 1 << 22;

    private readonly HashSet<ulong> _seen = new();
    private readonly CorpusTexts _texts = new(textField);

    /// <summary>Lines dropped as exact duplicates so far.</summary>
    public long DuplicatesDropped { get; private set; }

    /// <summary>Every non-empty document of the files and folders in <paramref name="paths"/>, in order.</summary>
    public IEnumerable<List<string>> Read(IEnumerable<string> paths)
    {
        foreach (var text in _texts.Read(paths))
        {
            var document = new List<string>();
            foreach (string paragraph in text.Text.Split('\n'))
                if (!string.IsNullOrWhiteSpace(paragraph) && !IsDuplicate(paragraph))
                    document.AddRange(SentenceSplitter.Split(paragraph));
            if (document.Count > 0) yield return document;
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
