using System.Diagnostics;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Data.Cleaning;
using SharpLM.Tests.Data.Cleaning;

namespace SharpLM.Bench;

/// <summary>
/// The evidence of docs/data.md: a corpus of at least 100 MB of real documents with injected near
/// duplicates for the throughput of <c>data clean</c>, and near-duplicate detection against ground truth.
/// </summary>
internal static class CleaningBenchmark
{
    /// <summary>
    /// Documents of the sources cut into pages (<see cref="Pages"/>),
    /// then, after every page, with probability 0.4 a near copy of an earlier page (one of the five edits,
    /// at a Jaccard similarity drawn from 0.5 to 1) and with probability 0.05 an exact copy, until the file
    /// holds <c>--min-mb</c> megabytes. usage: clean-corpus OUTPUT.jsonl [--min-mb 100] SOURCE...
    /// </summary>
    public static int Corpus(string[] args)
    {
        string output = args[0];
        double minMegabytes = 100;
        var sources = new List<string>();
        for (int i = 1; i < args.Length; i++)
            if (args[i] == "--min-mb") minMegabytes = double.Parse(args[++i]);
            else sources.Add(args[i]);
        var pages = Pages(sources);
        Console.Error.WriteLine($"{pages.Count:N0} pages, {pages.Sum(p => (long)System.Text.Encoding.UTF8.GetByteCount(p)) / 1e6:F1} MB of real text");
        var minHash = new MinHash(256, 5, CleaningLanguage.English);
        var injection = new NearDuplicateInjection(minHash, pages, seed: 3);
        var random = new Random(5);
        var edits = Enum.GetValues<CopyEdit>();
        long bytes = 0, near = 0, exact = 0, originals = 0;
        using var writer = new StreamWriter(output);
        void Write(string text)
        {
            string line = JsonSerializer.Serialize(new { text });
            writer.WriteLine(line);
            bytes += System.Text.Encoding.UTF8.GetByteCount(text);
        }
        for (int round = 0; bytes < minMegabytes * 1e6; round++)
            for (int i = 0; i < pages.Count && bytes < minMegabytes * 1e6; i++)
            {
                // After the first round the pages come again as near copies only, so every round adds work, not exact repeats.
                if (round == 0) { Write(pages[i]); originals++; }
                if (random.NextDouble() < (round == 0 ? 0.4 : 1.0))
                {
                    int original = round == 0 ? random.Next(i + 1) : i;
                    Write(injection.Copy(original, edits[random.Next(edits.Length)], 0.5 + 0.5 * random.NextDouble()).Text);
                    near++;
                }
                if (round == 0 && random.NextDouble() < 0.05) { Write(pages[random.Next(i + 1)]); exact++; }
            }
        Console.WriteLine($"{output}: {bytes / 1e6:F1} MB: {originals:N0} pages, {near:N0} near copies, {exact:N0} exact copies");
        return 0;
    }

    /// <summary>
    /// Pages of whole sentences, about 300 words each, three sentences to a line (as paragraphs of a web
    /// page), from any corpus format; documents of under 30 words (dictionary entries, one-line emails)
    /// are grouped 20 to a page instead.
    /// </summary>
    private static List<string> Pages(IEnumerable<string> sources)
    {
        var pages = new List<string>();
        var entries = new List<string>();
        foreach (var document in new CorpusTexts().Read(sources))
        {
            string text = document.Text.Replace('\n', ' ');
            if (text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length < 30)
            {
                entries.Add(text);
                if (entries.Count == 20) { pages.Add(string.Join(' ', entries)); entries.Clear(); }
                continue;
            }
            var page = new List<string>();
            int words = 0;
            foreach (string sentence in SentenceSplitter.Split(text))
            {
                page.Add(sentence);
                words += sentence.Split(' ').Length;
                if (words < 300) continue;
                pages.Add(string.Join('\n', page.Chunk(3).Select(line => string.Join(' ', line))));
                (page, words) = (new List<string>(), 0);
            }
            if (words >= 30) pages.Add(string.Join('\n', page.Chunk(3).Select(line => string.Join(' ', line))));
        }
        return pages;
    }

    /// <summary>
    /// Near-duplicate detection against ground truth: pages of the sources, then one copy of each of the
    /// first <c>--originals</c> pages edited to a Jaccard similarity drawn evenly from 0.3 to 1; cleaned
    /// with the rules off. Prints the share of copies removed by bucket of exact similarity, the precision
    /// of every removal (the exact similarity of the removed page with the page it was matched to, the
    /// naturally similar pages of the sources included), and, on a sample of the source pages, every pair
    /// at or above the threshold found by brute force against what cleaning the sample removes (the sample is
    /// the last pages, so give last the source with real near duplicates).
    /// usage: near-dup [--originals 3000] [--sample 3000] [--num-perm 256] [--threshold 0.8] SOURCE...
    /// </summary>
    public static int NearDuplicates(string[] args)
    {
        int originals = 3000, sample = 3000, permutations = 256;
        double threshold = 0.8;
        var sources = new List<string>();
        for (int i = 0; i < args.Length; i++)
            switch (args[i])
            {
                case "--originals": originals = int.Parse(args[++i]); break;
                case "--sample": sample = int.Parse(args[++i]); break;
                case "--num-perm": permutations = int.Parse(args[++i]); break;
                case "--threshold": threshold = double.Parse(args[++i]); break;
                default: sources.Add(args[i]); break;
            }
        var pages = Pages(sources).Where(p => p.Split(' ').Length >= 50).ToList();
        var minHash = new MinHash(permutations, 5, CleaningLanguage.English);
        var injection = new NearDuplicateInjection(minHash, pages, seed: 7);
        var random = new Random(11);
        var edits = Enum.GetValues<CopyEdit>();
        originals = Math.Min(originals, pages.Count);
        var clock = Stopwatch.StartNew();
        var copies = Enumerable.Range(0, originals).Select(i => injection.Copy(i, edits[i % edits.Length], 0.3 + 0.7 * random.NextDouble())).ToList();
        Console.Error.WriteLine($"{pages.Count:N0} pages, {copies.Count:N0} copies made in {clock.Elapsed.TotalSeconds:F0} s");
        var documents = pages.Concat(copies.Select(c => c.Text)).ToList();

        var (flagged, removed, index) = Clean(documents, permutations, threshold);
        Console.WriteLine($"near-duplicate detection: {pages.Count:N0} real pages and {copies.Count:N0} edited copies; {permutations} permutations, 5-grams, threshold {threshold}, " +
            $"confirmation at {index.Confirmation:F3}, {index.Bands} bands x {index.Rows} rows");
        Console.WriteLine("| exact Jaccard of copy | copies | removed |");
        Console.WriteLine("|---|---|---|");
        double[] edges = [0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1.0001];
        for (int b = edges.Length - 2; b >= 0; b--)
        {
            var inBucket = copies.Select((c, i) => (c, i)).Where(p => p.c.Jaccard >= edges[b] && p.c.Jaccard < edges[b + 1]).ToList();
            if (inBucket.Count == 0) continue;
            int hit = inBucket.Count(p => removed.Contains(pages.Count + p.i));
            Console.WriteLine($"| {edges[b]:F2} to {Math.Min(1, edges[b + 1]):F2} | {inBucket.Count} | {hit} ({hit / (double)inBucket.Count:P1}) |");
        }
        var aboveNine = copies.Select((c, i) => (c, i)).Where(p => p.c.Jaccard >= 0.9).ToList();
        Console.WriteLine($"recall at J >= 0.9: {aboveNine.Count(p => removed.Contains(pages.Count + p.i)) / (double)aboveNine.Count:P2} of {aboveNine.Count}");
        var exact = flagged.Select(f => (f, J: injection.Jaccard(documents[f.Removed], documents[f.Kept]))).ToList();
        Console.WriteLine($"precision: {exact.Count:N0} removals, {exact.Count(e => e.J >= threshold) / (double)exact.Count:P2} at exact J >= {threshold} " +
            $"(lowest {exact.Min(e => e.J):F3}); {flagged.Count(f => f.Removed < pages.Count)} of them real pages matched to other real pages; " +
            $"mean |estimate - exact| {exact.Average(e => Math.Abs(e.f.Estimate - e.J)):F4}");

        // Brute force on the last pages (the last source's: give the spam emails last, where real near duplicates are): every pair's exact Jaccard similarity.
        var sampled = pages.Skip(Math.Max(0, pages.Count - sample)).ToList();
        var sets = sampled.Select(minHash.Shingles).ToList();
        clock.Restart();
        var truePairs = new List<(int A, int B, double J)>();
        for (int a = 0; a < sets.Count; a++)
            for (int b = a + 1; b < sets.Count; b++)
            {
                int small = Math.Min(sets[a].Count, sets[b].Count), large = Math.Max(sets[a].Count, sets[b].Count);
                if (small < threshold * large) continue; // J <= small / large
                double j = NearDuplicateInjection.Jaccard(sets[a], sets[b]);
                if (j >= threshold) truePairs.Add((a, b, j));
            }
        var (sampleFlagged, sampleRemoved, _) = Clean(sampled, permutations, threshold);
        // A pair is resolved when at least one of its pages is gone; greedy clustering may drop the earlier page
        // (as a copy of a third) and keep the later, which is then no copy of anything kept.
        int BothKept(double low) => truePairs.Count(p => p.J >= low && !sampleRemoved.Contains(p.A) && !sampleRemoved.Contains(p.B));
        Console.WriteLine($"brute force on the last {sampled.Count:N0} real pages ({sampled.Count * (sampled.Count - 1L) / 2:N0} pairs, {clock.Elapsed.TotalSeconds:F0} s): " +
            $"{truePairs.Count} pairs at J >= {threshold}, {truePairs.Count(p => p.J >= 0.9)} at J >= 0.9; after cleaning, both pages are still there for " +
            $"{BothKept(threshold)} of the first and {BothKept(0.9)} of the second; {sampleRemoved.Count} pages removed ({sampleRemoved.Count - sampleFlagged.Count} exact duplicates), " +
            $"{sampleFlagged.Count(f => NearDuplicateInjection.Jaccard(sets[f.Removed], sets[f.Kept]) >= threshold)} of the {sampleFlagged.Count} near duplicates at exact J >= {threshold} with the page they were matched to");
        return 0;
    }

    private static (List<(int Removed, int Kept, double Estimate)> Flagged, HashSet<int> Removed, LshIndex Index) Clean(List<string> documents, int permutations, double threshold)
    {
        string folder = Directory.CreateTempSubdirectory("sharplm-neardup-").FullName;
        try
        {
            string corpus = Path.Combine(folder, "corpus.jsonl");
            File.WriteAllLines(corpus, documents.Select(d => JsonSerializer.Serialize(new { text = d })));
            var cleaner = new CorpusCleaner(new CleaningOptions(Filters: "none", Permutations: permutations, NearDuplicateThreshold: threshold));
            var flagged = new List<(int, int, double)>();
            var removed = new HashSet<int>();
            cleaner.NearDuplicate += (copy, kept, estimate) => flagged.Add(((int)copy.Position - 1, (int)kept.Position - 1, estimate));
            cleaner.Removed += (document, _) => removed.Add((int)document.Position - 1);
            cleaner.Clean([corpus], Path.Combine(folder, "out"));
            return (flagged, removed, new LshIndex(permutations, threshold));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
