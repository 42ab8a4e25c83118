using System.Reflection;

namespace SharpLM.Cli;

/// <summary>
/// The corpus compiled into the command (data/corpus: State of the Union addresses 1961-2018 and Tang
/// poems), written out for <c>quickstart</c> and for a <c>pretrain</c> given no data.
/// </summary>
public static class DefaultCorpus
{
    private const string ResourcePrefix = "SharpLM.DefaultCorpus.";

    /// <summary>The English part: the State of the Union addresses.</summary>
    public const string EnglishFile = "sotu-1961-2018.txt";

    /// <summary>Writes every file of the corpus into <paramref name="folder"/> and returns it.</summary>
    public static string Write(string folder) => Write(folder, _ => true);

    /// <summary>
    /// Writes the English part alone into <paramref name="folder"/> and returns it. The default
    /// pretraining run uses it: a tiny model given three minutes learns English faster without a third
    /// of its text, and most of an 8,000-token vocabulary, going to Chinese characters (docs/pretraining.md).
    /// </summary>
    public static string WriteEnglish(string folder) => Write(folder, file => file == EnglishFile);

    private static string Write(string folder, Func<string, bool> wanted)
    {
        var assembly = Assembly.GetExecutingAssembly();
        foreach (string name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            string file = name[ResourcePrefix.Length..];
            if (!wanted(file)) continue;
            using var resource = assembly.GetManifestResourceStream(name)!;
            AtomicFile.Write(Path.Combine(folder, file), resource.CopyTo);
        }
        return folder;
    }
}
