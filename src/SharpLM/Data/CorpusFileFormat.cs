namespace SharpLM.Data;

/// <summary>How the records of a corpus file are laid out, read from its name.</summary>
public enum CorpusLayout
{
    /// <summary>Plain text in Google's BERT format: one sentence or paragraph per line, a blank line between documents.</summary>
    Text,

    /// <summary>JSON Lines: one document per line, an object whose text field (default <c>text</c>) holds the document.</summary>
    JsonLines,

    /// <summary>Apache Parquet: one document per row, in a string column (default <c>text</c>).</summary>
    Parquet,
}

/// <summary>How a corpus file's bytes are compressed, read from its name.</summary>
public enum CorpusCompression
{
    /// <summary>Not compressed.</summary>
    None,

    /// <summary>gzip (<c>.gz</c>).</summary>
    Gzip,

    /// <summary>Zstandard (<c>.zst</c>).</summary>
    Zstandard,
}

/// <summary>
/// The layout and compression of a corpus file, from its name as Hugging Face datasets name theirs:
/// <c>.parquet</c>; <c>.jsonl</c>, <c>.jsonl.gz</c>, <c>.jsonl.zst</c>; <c>.txt.gz</c>, <c>.txt.zst</c>;
/// any other name is plain text (<c>.txt</c>, or no extension at all, as the corpora of Google's BERT scripts).
/// </summary>
public readonly record struct CorpusFileFormat(CorpusLayout Layout, CorpusCompression Compression)
{
    /// <summary>The format of <paramref name="path"/>, decided by its name alone.</summary>
    public static CorpusFileFormat Of(string path)
    {
        string name = Path.GetFileName(path).ToLowerInvariant();
        var compression = CorpusCompression.None;
        if (name.EndsWith(".gz", StringComparison.Ordinal)) (compression, name) = (CorpusCompression.Gzip, name[..^3]);
        else if (name.EndsWith(".zst", StringComparison.Ordinal)) (compression, name) = (CorpusCompression.Zstandard, name[..^4]);
        var layout = name.EndsWith(".parquet", StringComparison.Ordinal) ? CorpusLayout.Parquet
            : name.EndsWith(".jsonl", StringComparison.Ordinal) ? CorpusLayout.JsonLines
            : CorpusLayout.Text;
        if (layout == CorpusLayout.Parquet && compression != CorpusCompression.None)
            throw new InvalidInputException($"{path}: a Parquet file compresses its own pages; give the .parquet file itself, not a compressed copy.");
        return new CorpusFileFormat(layout, compression);
    }
}
