using SharpLM.Data;
using SharpLM.Text;

namespace SharpLM.Tests.Data;

public class PretrainingDataWriterTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private static readonly Lazy<BertTokenizer> Tokenizer = new(() => BertTokenizer.Load(TestData.BertBaseUncasedVocab));

    public void Dispose() => _temp.Dispose();

    /// <summary>A small real corpus: 40 SOTU paragraphs and 400 Tang poems, in Google's format.</summary>
    private string Corpus()
    {
        string path = _temp.Of("corpus.txt");
        if (!File.Exists(path))
        {
            var sotu = TestData.Lines(TestData.SotuPath).Take(40).Select(p => string.Join('\n', SentenceSplitter.Split(p)));
            var poems = File.ReadAllText(TestData.TangPath).Split("\n\n").Take(400);
            File.WriteAllText(path, string.Join("\n\n", sotu.Concat(poems)) + "\n");
        }
        return path;
    }

    [Fact]
    public void Shards_hold_well_formed_masked_NSP_examples_matching_the_manifest()
    {
        var options = new PretrainingDataOptions(MaxSeqLength: 64, DupeFactor: 2, ValidationFraction: 0.1, ExamplesPerShard: 1000);
        var manifest = new PretrainingDataWriter(Tokenizer.Value, options).Write([Corpus()], _temp.Of("data"));
        var vocabulary = Tokenizer.Value.Vocabulary;
        Assert.Equal(vocabulary.Hash(), PretrainingDataManifest.Load(_temp.Of("data")).VocabHash);
        Assert.True(manifest.ValidationDocuments > 10 && manifest.TrainDocuments > 5 * manifest.ValidationDocuments);
        Assert.True(manifest.Shards.Count(s => s.Split == "train") > 1, "rotates shards");
        long seen = 0, randomNext = 0;
        foreach (var shard in manifest.Shards)
        {
            using var reader = new PretrainingShardReader(_temp.Of("data", shard.File), 64, 20);
            Assert.Equal(shard.Examples, reader.Count);
            for (int i = 0; i < reader.Count; i++)
            {
                var e = reader.Read(i);
                Assert.Equal(vocabulary.ClassifierId, e.Ids[0]);
                Assert.Equal(vocabulary.SeparatorId, e.Ids[e.SegmentALength - 1]);
                Assert.Equal(vocabulary.SeparatorId, e.Ids[^1]);
                Assert.True(e.Ids.Length <= 64 && e.SegmentALength < e.Ids.Length);
                Assert.Equal(e.Masked.Positions.Select(p => e.Ids[p]), e.Masked.Labels);
                Assert.All(e.Masked.Positions, p => Assert.False(vocabulary.IsSpecial(e.Ids[p]) && e.Ids[p] != vocabulary.UnknownId));
                if (e.IsRandomNext) randomNext++;
                seen++;
            }
        }
        Assert.Equal(manifest.TrainExamples + manifest.ValidationExamples, seen);
        Assert.InRange(randomNext / (double)seen, 0.4, 0.75);
    }

    [Fact]
    public void The_same_seed_gives_identical_shards_and_another_seed_does_not()
    {
        string Prepare(string name, int seed)
        {
            new PretrainingDataWriter(Tokenizer.Value, new PretrainingDataOptions(MaxSeqLength: 64, DupeFactor: 1, Seed: seed)).Write([Corpus()], _temp.Of(name));
            return _temp.Of(name, "train-00000.bin");
        }
        byte[] first = File.ReadAllBytes(Prepare("a", 7));
        Assert.Equal(first, File.ReadAllBytes(Prepare("b", 7)));
        Assert.NotEqual(first, File.ReadAllBytes(Prepare("c", 8)));
    }

    [Fact]
    public void Memory_holds_one_buffer_however_long_the_corpus()
    {
        // The corpus is ten times the buffer and more: the buffer never holds more than its size plus one document.
        var options = new PretrainingDataOptions(MaxSeqLength: 64, DupeFactor: 1, BufferTokens: 2000);
        var writer = new PretrainingDataWriter(Tokenizer.Value, options);
        var manifest = writer.Write([Corpus()], _temp.Of("data"));
        long corpusTokens = File.ReadAllText(Corpus()).Split('\n').Sum(l => (long)Tokenizer.Value.Encode(l).Length - 2);
        Assert.True(corpusTokens > 10 * options.BufferTokens, $"{corpusTokens} tokens");
        long longestDocument = File.ReadAllText(Corpus()).Split("\n\n").Max(d => (long)Tokenizer.Value.Encode(d).Length);
        Assert.InRange(writer.PeakBufferedTokens, options.BufferTokens, options.BufferTokens + longestDocument);
        Assert.True(manifest.TrainExamples > corpusTokens / 64);
    }

    [Fact]
    public void An_existing_folder_a_missing_manifest_and_a_truncated_shard_are_refused()
    {
        string data = _temp.Of("data");
        new PretrainingDataWriter(Tokenizer.Value, new PretrainingDataOptions(MaxSeqLength: 64, DupeFactor: 1)).Write([Corpus()], data);
        var again = Assert.Throws<InvalidInputException>(() =>
            new PretrainingDataWriter(Tokenizer.Value, new PretrainingDataOptions()).Write([Corpus()], data));
        Assert.Contains("exists and is not empty", again.Message);
        Assert.Contains("no manifest.json", Assert.Throws<InvalidInputException>(() => PretrainingDataManifest.Load(_temp.Path)).Message);
        string shard = Path.Combine(data, "train-00000.bin");
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..1000]);
        Assert.Contains("not a whole number", Assert.Throws<InvalidInputException>(() => new PretrainingShardReader(shard, 64, 20)).Message);
    }

    [Fact]
    public void Data_prepare_on_the_command_line()
    {
        var run = Cli.CliRun.Of("data", "prepare", "--corpus", Corpus(), "--vocab", TestData.BertBaseUncasedVocab, "--output", _temp.Of("cli"), "--max-seq-length", "64", "--dupe-factor", "1", "--whole-word-mask");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("training examples", run.Output);
        Assert.True(PretrainingDataManifest.Load(_temp.Of("cli")).Options.WholeWordMask);
    }
}
