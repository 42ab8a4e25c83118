using SharpLM.Text;

namespace SharpLM.Bench;

/// <summary>
/// Fertility (WordPiece tokens per pre-tokenised word) and [UNK] rate of vocabularies on held-out
/// text. With no --vocab, the real bert-base-uncased vocabulary is used as the yardstick.
/// </summary>
internal static class FertilityBenchmark
{
    public static int Run(string[] args)
    {
        var vocabs = new List<string>();
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--vocab") vocabs.Add(args[++i]);
            else files.Add(args[i]);
        }
        string folder = Directory.CreateTempSubdirectory("sharplm-fertility-").FullName;
        vocabs.Insert(0, BertBaseUncased.WriteVocab(folder));
        var lines = files.SelectMany(File.ReadLines).Where(l => l.Length > 0).ToArray();

        var pre = new BertPreTokenizer(true, true);
        var words = new PreTokenizedText();
        long wordCount = 0;
        foreach (string line in lines)
        {
            pre.Split(line, words);
            wordCount += words.Count;
        }
        Console.WriteLine($"held-out text: {string.Join(", ", files.Select(Path.GetFileName))}: {lines.Length:N0} lines, {wordCount:N0} words");
        Console.WriteLine();
        Console.WriteLine("| vocabulary | size | tokens | tokens per word | words split into 2+ pieces | [UNK] per 1,000 tokens |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (string path in vocabs)
        {
            var vocabulary = Vocabulary.Load(path);
            var encoder = new WordPieceEncoder(vocabulary);
            var pieces = new PieceList();
            long tokens = 0, unknown = 0, split = 0;
            foreach (string line in lines)
            {
                pre.Split(line, words);
                for (int w = 0; w < words.Count; w++)
                {
                    pieces.Clear();
                    encoder.Encode(words.Word(w), pieces);
                    tokens += pieces.Count;
                    if (pieces.Count > 1) split++;
                    for (int p = 0; p < pieces.Count; p++) if (pieces.Id(p) == vocabulary.UnknownId) unknown++;
                }
            }
            string name = path.Contains("bert-base-uncased") ? "bert-base-uncased" : path;
            Console.WriteLine($"| {name} | {vocabulary.Count:N0} | {tokens:N0} | {(double)tokens / wordCount:F4} | {100.0 * split / wordCount:F2}% | {1000.0 * unknown / tokens:F2} |");
        }
        Directory.Delete(folder, recursive: true);
        return 0;
    }
}
