using SharpLM.Text;
using Fast = FastBertTokenizer;

namespace SharpLM.Tests.Text;

public class WordPieceTrainerTests
{
    private static readonly BertPreTokenizer Uncased = new(lowercase: true, stripAccents: true);

    // Trained on the speeches up to 2009 and the poems; the later speeches are held out.
    private static readonly Lazy<(Vocabulary Vocabulary, Dictionary<string, long> Counts)> Trained = new(() =>
    {
        var lines = TestData.Lines(TestData.SotuPath).Take(150).Concat(TestData.Lines(TestData.TangPath));
        var counts = new WordCounter(Uncased).Count(lines);
        return (new WordPieceTrainer(new WordPieceTrainerOptions(8000, 2)).Train(counts), counts);
    });

    [Fact]
    public void The_vocabulary_starts_with_the_special_tokens_and_has_the_size_asked_for()
    {
        var vocabulary = Trained.Value.Vocabulary;
        Assert.Equal(Vocabulary.SpecialTokens, vocabulary.Tokens.Take(5));
        Assert.Equal(8000, vocabulary.Count);
    }

    [Fact]
    public void Every_CJK_character_seen_is_a_token()
    {
        var seen = Trained.Value.Counts.Keys.Where(w => w.Length == 1 && BertCharacters.IsCjk(w[0])).ToList();
        Assert.True(seen.Count > 3000, $"{seen.Count} ideographs");
        Assert.All(seen, c => Assert.True(Trained.Value.Vocabulary.TryGetId(c, out _), c));
    }

    [Fact]
    public void Frequent_words_become_single_tokens_and_pieces_exist_for_their_prefixes()
    {
        var vocabulary = Trained.Value.Vocabulary;
        foreach (string word in new[] { "the", "congress", "america", "economy" })
            Assert.True(vocabulary.TryGetId(word, out _), word);
        Assert.True(vocabulary.TryGetId("##s", out _));
    }

    [Fact]
    public void A_reference_tokenizer_loads_the_written_vocab_and_agrees_with_ours_on_held_out_text()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-trained-{Environment.ProcessId}.txt");
        Trained.Value.Vocabulary.Save(path);
        try
        {
            var reference = new Fast.BertTokenizer();
            using (var reader = new StreamReader(path)) reference.LoadVocabulary(reader, convertInputToLowercase: true);
            var ours = new BertTokenizer(Vocabulary.Load(path));
            var heldOut = TestData.Lines(TestData.SotuPath).Skip(150).ToList();
            Assert.True(heldOut.Count > 30);
            // The later speeches use curly quotes and dashes that the training text never has: those,
            // and only those, are [UNK].
            var seenCharacters = Trained.Value.Counts.Keys.SelectMany(w => w).ToHashSet();
            var words = new PreTokenizedText();
            int tokens = 0;
            foreach (string line in heldOut)
            {
                var (ids, _, _) = reference.Encode(line, maximumTokens: 1_000_000);
                var mine = ours.Encode(line);
                Assert.Equal(ids.ToArray().Select(i => (int)i), mine.Ids);
                tokens += mine.Length;
                for (int i = 0; i < mine.Length; i++)
                {
                    if (mine.Ids[i] != ours.Vocabulary.UnknownId) continue;
                    Uncased.Split(line.AsSpan(mine.Offsets[i].Start, mine.Offsets[i].End - mine.Offsets[i].Start), words);
                    Assert.Contains(words.Word(0).ToArray(), c => !seenCharacters.Contains(c));
                }
            }
            Assert.True(tokens > 10_000);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Training_is_deterministic_and_counting_on_one_thread_or_many_gives_the_same_counts()
    {
        var lines = TestData.Lines(TestData.SotuPath).Take(40).ToList();
        var one = new WordCounter(Uncased, threads: 1).Count(lines);
        var many = new WordCounter(Uncased, threads: 4).Count(lines);
        Assert.Equal(one.OrderBy(p => p.Key, StringComparer.Ordinal), many.OrderBy(p => p.Key, StringComparer.Ordinal));
        var trainer = new WordPieceTrainer(new WordPieceTrainerOptions(3000, 2));
        Assert.Equal(trainer.Train(one).Tokens, trainer.Train(many).Tokens);
    }

    [Fact]
    public void Merging_stops_at_the_minimum_frequency()
    {
        var counts = new Dictionary<string, long> { ["aaab"] = 5, ["ab"] = 1, ["cd"] = 1 };
        var vocabulary = new WordPieceTrainer(new WordPieceTrainerOptions(100, 2)).Train(counts);
        // Pairs: (a,##a) 10, (##a,##a) 5, (##a,##b) 5, (a,##b) 1, (c,##d) 1: "cd" is never merged.
        Assert.True(vocabulary.TryGetId("aa", out _));
        Assert.False(vocabulary.TryGetId("cd", out _));
        Assert.True(vocabulary.Count < 100);
    }
}
