using System.Diagnostics;
using System.Text;
using SharpLM.Text;
using Fast = FastBertTokenizer;
using Ml = Microsoft.ML.Tokenizers;
using Rust = Tokenizers.DotNet;

namespace SharpLM.Bench;

/// <summary>
/// Tokenisation throughput of SharpLM against FastBertTokenizer, Microsoft.ML.Tokenizers and Hugging
/// Face's Rust tokenizers (through Tokenizers.DotNet) on the same lines with the same
/// bert-base-uncased vocabulary, on 1 and 2 threads, the contenders alternating round by round.
/// </summary>
internal static class TokenizeBenchmark
{
    private sealed record Contender(string Name, Func<string, int> Encode, Func<string, int[]> Ids);

    public static int Run(string[] args)
    {
        int rounds = 5;
        var files = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--rounds") rounds = int.Parse(args[++i]);
            else files.Add(args[i]);
        }
        var lines = files.SelectMany(File.ReadLines).Where(l => l.Length > 0).ToArray();
        long bytes = lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l) + 1);

        string folder = Directory.CreateTempSubdirectory("sharplm-bench-").FullName;
        string vocabPath = BertBaseUncased.WriteVocab(folder);
        var ours = BertTokenizer.Load(vocabPath);
        var fast = new Fast.BertTokenizer();
        using (var reader = new StreamReader(vocabPath)) fast.LoadVocabulary(reader, convertInputToLowercase: true);
        Ml.BertTokenizer ml;
        using (var stream = File.OpenRead(vocabPath))
            ml = Ml.BertTokenizer.Create(stream, new Ml.BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
        string tokenizerJson = Path.Combine(folder, "tokenizer.json");
        SharpLM.Interop.TokenizerJson.Save(ours.Vocabulary, lowercase: true, tokenizerJson);
        var rust = new Rust.Tokenizer(vocabPath: tokenizerJson);

        var contenders = new[]
        {
            new Contender("SharpLM", l => ours.Encode(l).Length, l => ours.Encode(l).Ids),
            new Contender("FastBertTokenizer 1.2.6", l => fast.Encode(l, maximumTokens: 1_000_000).InputIds.Length,
                l => fast.Encode(l, maximumTokens: 1_000_000).InputIds.ToArray().Select(x => (int)x).ToArray()),
            new Contender("Microsoft.ML.Tokenizers 2.0.1", l => ml.EncodeToIds(l).Count, l => ml.EncodeToIds(l).ToArray()),
            new Contender("HF tokenizers (Rust) via Tokenizers.DotNet 1.4.1", l => rust.Encode(l).Length, l => rust.Encode(l).Select(x => (int)x).ToArray()),
        };

        Console.WriteLine($"text: {lines.Length:N0} lines, {bytes / 1e6:F2} MB UTF-8 ({string.Join(", ", files.Select(Path.GetFileName))})");
        Console.WriteLine($"machine: {Environment.ProcessorCount} logical cores, .NET {Environment.Version}");
        Console.WriteLine();
        Console.WriteLine("| tokenizer | lines with ids identical to SharpLM |");
        Console.WriteLine("|---|---|");
        var oursIds = lines.Select(l => contenders[0].Ids(l)).ToArray();
        long tokens = oursIds.Sum(ids => (long)ids.Length);
        foreach (var c in contenders.Skip(1))
        {
            int same = lines.Select((l, i) => c.Ids(l).AsSpan().SequenceEqual(oursIds[i])).Count(x => x);
            Console.WriteLine($"| {c.Name} | {same:N0} of {lines.Length:N0} |");
        }
        Console.WriteLine();

        // Each round times every contender back to back, alternating the order; the ratio to SharpLM is
        // taken within the round, so that the machine's drift between rounds cancels out.
        Console.WriteLine("| tokenizer | threads | MB/s (median) | tokens/s, M (median) | SharpLM's speed relative to it (median of per-round ratios, min-max) |");
        Console.WriteLine("|---|---|---|---|---|");
        foreach (int threads in new[] { 1, 2 })
        {
            var seconds = contenders.ToDictionary(c => c.Name, _ => new List<double>());
            foreach (var c in contenders) Time(c, lines, threads); // warm-up
            for (int r = 0; r < rounds; r++)
                foreach (var c in (r % 2 == 0 ? contenders : contenders.Reverse()))
                    seconds[c.Name].Add(Time(c, lines, threads));
            var sharpLm = seconds["SharpLM"];
            foreach (var c in contenders)
            {
                double s = Median.Of(seconds[c.Name]);
                var ratios = seconds[c.Name].Zip(sharpLm, (theirs, mine) => theirs / mine).ToList();
                string relative = c.Name == "SharpLM" ? "" : $"{Median.Of(ratios):F2}x ({ratios.Min():F2}-{ratios.Max():F2})";
                Console.WriteLine($"| {c.Name} | {threads} | {bytes / 1e6 / s:F1} | {tokens / 1e6 / s:F2} | {relative} |");
            }
        }
        Directory.Delete(folder, recursive: true);
        return 0;
    }

    private static double Time(Contender contender, string[] lines, int threads)
    {
        GC.Collect();
        var clock = Stopwatch.StartNew();
        if (threads == 1)
        {
            foreach (string line in lines) contender.Encode(line);
        }
        else
        {
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                for (int i = t; i < lines.Length; i += threads) contender.Encode(lines[i]);
            })).ToList();
            workers.ForEach(w => w.Start());
            workers.ForEach(w => w.Join());
        }
        return clock.Elapsed.TotalSeconds;
    }
}
