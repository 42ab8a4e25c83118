using System.Text.Json;
using SharpLM.Data;
using SharpLM.Data.Cleaning;
using Xunit.Abstractions;

namespace SharpLM.Tests.Data.Cleaning;

public class CorpusCleanerTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>State of the Union text cut into pages of twelve sentences (about 250 words).</summary>
    internal static List<string> Pages() => TestData.Lines(TestData.SotuPath)
        .SelectMany(SentenceSplitter.Split).Chunk(12).Select(s => string.Join(' ', s)).Where(p => p.Length > 600).ToList();

    /// <summary>One <c>{"text": ...}</c> line per text.</summary>
    internal static string JsonLines(IEnumerable<string> texts) => string.Concat(texts.Select(t => JsonSerializer.Serialize(new { text = t }) + "\n"));

    [Fact]
    public void Chinese_near_duplicates_are_found_on_character_shingles()
    {
        // Documents of five Tang poems; copies with characters replaced by characters of other poems.
        var poems = File.ReadAllText(TestData.TangPath).Split("\n\n").Select(p => string.Join("", p.Split('\n').Skip(1))).Where(p => p.Length > 0).ToList();
        var documents = poems.Chunk(5).Select(c => string.Join('\n', c)).Take(300).ToList();
        var minHash = new MinHash(256, 5, CleaningLanguage.Chinese);
        var random = new Random(5);
        var copies = new List<(string Text, double Jaccard)>();
        for (int i = 0; i < 200; i++)
        {
            char[] chars = documents[i].ToCharArray();
            int replace = (int)(chars.Length * 0.0025 * random.Next(0, 17)); // 0-4% of the characters: each breaks up to five shingles
            for (int k = 0; k < replace; k++)
            {
                int at = random.Next(chars.Length);
                if (chars[at] != '\n') chars[at] = documents[random.Next(documents.Count)][0];
            }
            string copy = new(chars);
            copies.Add((copy, NearDuplicateInjection.Jaccard(minHash.Shingles(documents[i]), minHash.Shingles(copy))));
        }
        string corpus = _temp.Write("poems.jsonl", JsonLines(documents.Concat(copies.Select(c => c.Text))));
        var cleaner = new CorpusCleaner(new CleaningOptions(Filters: "none", Language: CleaningLanguage.Chinese));
        var removed = new HashSet<int>();
        cleaner.Removed += (document, _) => removed.Add((int)document.Position - 1);
        cleaner.Clean([corpus], _temp.Of("out"));

        var high = copies.Select((c, i) => (c, i)).Where(p => p.c.Jaccard >= 0.9).ToList();
        var low = copies.Select((c, i) => (c, i)).Where(p => p.c.Jaccard < 0.7).ToList();
        output.WriteLine($"{high.Count} copies at J >= 0.9, {high.Count(p => removed.Contains(documents.Count + p.i))} removed; {low.Count} below 0.7, {low.Count(p => removed.Contains(documents.Count + p.i))} removed");
        Assert.True(high.Count > 20 && low.Count > 20, "the edits should spread the similarities");
        Assert.All(high, p => Assert.Contains(documents.Count + p.i, removed));
        Assert.DoesNotContain(low, p => removed.Contains(documents.Count + p.i));
        Assert.DoesNotContain(removed, r => r < documents.Count); // no original page is a near duplicate of another
    }

    [Fact]
    public void A_stopped_run_resumed_from_its_checkpoint_gives_the_shards_and_report_of_a_run_never_stopped()
    {
        // 15,000 sentences, one document each (repeats among them: "Thank you." and the like), in 1 MB shards.
        var sentences = TestData.Lines(TestData.SotuPath).SelectMany(SentenceSplitter.Split).Take(15_000).ToList();
        string corpus = _temp.Write("sentences.jsonl", JsonLines(sentences));
        var options = new CleaningOptions(Filters: "none", ShardBytes: 1 << 20, CheckpointSeconds: 0);
        var whole = new CorpusCleaner(options).Clean([corpus], _temp.Of("whole"));

        using var stop = new CancellationTokenSource();
        var stopped = new CorpusCleaner(options);
        stopped.Progress += p => { if (p.DocumentsIn >= 12_000) stop.Cancel(); };
        Assert.ThrowsAny<OperationCanceledException>(() => stopped.Clean([corpus], _temp.Of("resumed"), stop.Token));
        Assert.True(stopped.Resumable);
        Assert.Empty(Directory.EnumerateFiles(_temp.Of("resumed"), "part-*"));

        var wrong = Assert.Throws<InvalidInputException>(() => new CorpusCleaner(options with { Ngram = 4 }).Clean([corpus], _temp.Of("resumed"), resume: true));
        Assert.Contains("the checkpoint was taken with other inputs", wrong.Message);
        // A kill (rather than a stop) leaves the shard being written after the checkpoint: resuming removes it.
        File.WriteAllText(_temp.Of("resumed", ".part-00009.jsonl.tmp"), "{\"text\": \"half a shard");
        var resumed = new CorpusCleaner(options).Clean([corpus], _temp.Of("resumed"), resume: true);

        Assert.True(whole.Shards.Count >= 2, "the run should span shards");
        Assert.Equal(whole.Shards, resumed.Shards);
        foreach (string shard in whole.Shards)
            Assert.Equal(File.ReadAllBytes(_temp.Of("whole", shard)), File.ReadAllBytes(_temp.Of("resumed", shard)));
        Assert.Equal((whole.DocumentsIn, whole.DocumentsOut, whole.BytesIn, whole.BytesOut), (resumed.DocumentsIn, resumed.DocumentsOut, resumed.BytesIn, resumed.BytesOut));
        Assert.Equal(whole.Removed.ToDictionary(r => r.Key, r => r.Value.Documents), resumed.Removed.ToDictionary(r => r.Key, r => r.Value.Documents));
        Assert.True(whole.Removed["near-duplicate"].Documents > 0 && whole.Removed["exact-duplicate"].Documents > 0);
        Assert.Equal(whole.NearDuplicateIndex! with { IndexMegabytes = 0 }, resumed.NearDuplicateIndex! with { IndexMegabytes = 0 });
        Assert.False(Directory.Exists(_temp.Of("resumed", ".clean-state")));
        Assert.Empty(Directory.EnumerateFiles(_temp.Of("resumed"), "*.tmp"));
    }

    [Theory]
    [InlineData("plain words")]
    [InlineData("quotes \" and \\ backslashes, a tab\there, a line\nend, \r, \u0001 and \u001f")]
    [InlineData("床前明月光，疑是地上霜。 café 😀 \u2028")]
    public void Output_lines_are_JSON_that_reads_back_to_the_same_text(string text)
    {
        byte[] line = CleanedShardWriter.Line(text);
        Assert.Equal((byte)'\n', line[^1]);
        using var json = JsonDocument.Parse(line.AsMemory(0, line.Length - 1));
        Assert.Equal(text, json.RootElement.GetProperty("text").GetString());
        Assert.Single(json.RootElement.EnumerateObject());
    }

    [Fact]
    public void Near_duplicates_injected_at_known_similarities_are_found_above_the_threshold_and_left_below_it()
    {
        var pages = Pages().Take(600).ToList();
        var minHash = new MinHash(256, 5, CleaningLanguage.English);
        var injection = new NearDuplicateInjection(minHash, pages, seed: 7);
        var random = new Random(11);
        var edits = Enum.GetValues<CopyEdit>();
        // One copy of each of 500 originals, at a similarity drawn evenly from 0.5 to 1.
        var copies = Enumerable.Range(0, 500).Select(i => injection.Copy(i, edits[i % edits.Length], 0.5 + 0.5 * random.NextDouble())).ToList();
        string corpus = _temp.Write("corpus.jsonl", JsonLines(pages.Concat(copies.Select(c => c.Text))));

        var cleaner = new CorpusCleaner(new CleaningOptions(Filters: "none", NearDuplicateThreshold: 0.8));
        var flagged = new List<(int Removed, int Kept, double Estimate)>();
        cleaner.NearDuplicate += (removed, kept, estimate) => flagged.Add(((int)removed.Position - 1, (int)kept.Position - 1, estimate));
        var report = cleaner.Clean([corpus], _temp.Of("out"));

        var documents = pages.Concat(copies.Select(c => c.Text)).ToList();
        var found = flagged.Select(f => f.Removed).ToHashSet();
        var exact = flagged.Select(f => injection.Jaccard(documents[f.Removed], documents[f.Kept])).ToList();
        double Recall(double low, double high)
        {
            var inRange = copies.Select((c, i) => (c, i)).Where(p => p.c.Jaccard >= low && p.c.Jaccard < high).ToList();
            double rate = inRange.Count(p => found.Contains(pages.Count + p.i)) / (double)inRange.Count;
            output.WriteLine($"J in [{low:F2}, {high:F2}): {inRange.Count} copies, {rate:P1} removed");
            return rate;
        }
        double aboveNine = Recall(0.9, 1.01);
        Recall(0.8, 0.9);
        Recall(0.75, 0.8);
        double belowSeven = Recall(0, 0.7);
        double precision = exact.Count(j => j >= 0.8) / (double)exact.Count;
        output.WriteLine($"{flagged.Count} flagged, precision at J >= 0.8: {precision:P2}, at J >= 0.75: {exact.Count(j => j >= 0.75) / (double)exact.Count:P2}; " +
            $"mean |estimate - exact| {flagged.Zip(exact).Average(p => Math.Abs(p.First.Estimate - p.Second)):F3}; bands {report.NearDuplicateIndex!.Bands} x {report.NearDuplicateIndex.Rows}");

        Assert.True(aboveNine >= 0.95, $"recall at J >= 0.9 is {aboveNine:P1}");
        Assert.True(precision >= 0.99, $"precision at J >= 0.8 is {precision:P2}");
        Assert.Equal(0, belowSeven);
        Assert.All(exact, j => Assert.True(j >= 0.7, $"a pair at J {j:F3} was flagged"));
        Assert.Equal(report.DocumentsIn - flagged.Count - (report.Removed.GetValueOrDefault("exact-duplicate")?.Documents ?? 0), report.DocumentsOut);
    }
}
