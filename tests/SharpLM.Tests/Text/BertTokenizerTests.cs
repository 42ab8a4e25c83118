using SharpLM.Text;

namespace SharpLM.Tests.Text;

public class BertTokenizerTests
{
    private static readonly Lazy<BertTokenizer> Uncased = new(() => BertTokenizer.Load(TestData.BertBaseUncasedVocab));

    [Fact]
    public void Every_token_offset_spells_the_token_in_the_original_text()
    {
        // On real text: lowercasing and stripping the original span of each token gives the token itself.
        var normalise = new BertPreTokenizer(true, true);
        var words = new PreTokenizedText();
        int checkedTokens = 0;
        foreach (string line in TestData.Lines(TestData.SotuPath).Take(60).Concat(TestData.Lines(TestData.TangPath).Take(2000)))
        {
            var encoded = Uncased.Value.Encode(line);
            int previousEnd = 0;
            for (int i = 0; i < encoded.Length; i++)
            {
                if (encoded.SpecialTokensMask[i] == 1) { Assert.Equal(default, encoded.Offsets[i]); continue; }
                var (start, end) = (encoded.Offsets[i].Start, encoded.Offsets[i].End);
                Assert.True(start >= previousEnd && end > start && end <= line.Length, $"offsets {start}..{end} in order and inside the line");
                previousEnd = end;
                if (encoded.Ids[i] == Uncased.Value.Vocabulary.UnknownId) continue;
                normalise.Split(line.AsSpan(start, end - start), words);
                string token = encoded.Tokens[i].StartsWith("##") ? encoded.Tokens[i][2..] : encoded.Tokens[i];
                Assert.Equal(token, words.Word(0).ToString());
                checkedTokens++;
            }
        }
        Assert.True(checkedTokens > 100_000, $"checked {checkedTokens} tokens");
    }

    [Fact]
    public void A_pair_has_segment_ids_special_tokens_mask_and_offsets_into_each_text()
    {
        var e = Uncased.Value.Encode("Hello, world", "Good night");
        Assert.Equal(new[] { "[CLS]", "hello", ",", "world", "[SEP]", "good", "night", "[SEP]" }, e.Tokens);
        Assert.Equal(new[] { 0, 0, 0, 0, 0, 1, 1, 1 }, e.TypeIds);
        Assert.Equal(new[] { 1, 0, 0, 0, 1, 0, 0, 1 }, e.SpecialTokensMask);
        Assert.All(e.AttentionMask, m => Assert.Equal(1, m));
        Assert.Equal(new TokenOffset(5, 10), e.Offsets[6]); // "night" in the second text
    }

    [Fact]
    public void Truncation_of_a_pair_is_longest_first()
    {
        string first = "one two three four five six", second = "seven eight";
        var e = Uncased.Value.Encode(first, second, maxLength: 8);
        // 6 + 2 tokens must fit in 8 - 3 = 5: the longer first text gives up tokens until it is 3 long.
        Assert.Equal(new[] { "[CLS]", "one", "two", "three", "[SEP]", "seven", "eight", "[SEP]" }, e.Tokens);
        var tie = Uncased.Value.Encode("one two", "three four", maxLength: 6);
        Assert.Equal(new[] { "[CLS]", "one", "two", "[SEP]", "three", "[SEP]" }, tie.Tokens);
        var single = Uncased.Value.Encode(first, maxLength: 4);
        Assert.Equal(new[] { "[CLS]", "one", "two", "[SEP]" }, single.Tokens);
    }

    [Fact]
    public void Decode_glues_continuations_and_removes_spaces_before_punctuation()
    {
        string text = "We don't tokenize unaffordable things, do we?";
        var e = Uncased.Value.Encode(text);
        Assert.Contains(e.Tokens, t => t.StartsWith("##"));
        Assert.Equal("we don't tokenize unaffordable things, do we?", Uncased.Value.Decode(e.Ids));
        Assert.StartsWith("[CLS] we", Uncased.Value.Decode(e.Ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Cased_tokenizer_keeps_case_and_accents()
    {
        var vocabulary = new Vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "CAFÉ", "café", "cafe"]);
        Assert.Equal(new[] { "[CLS]", "CAFÉ", "café", "[SEP]" }, new BertTokenizer(vocabulary, lowercase: false).Encode("CAFÉ café").Tokens);
        Assert.Equal(new[] { "[CLS]", "cafe", "cafe", "[SEP]" }, new BertTokenizer(vocabulary, lowercase: true).Encode("CAFÉ café").Tokens);
    }

    [Fact]
    public void Tokenizing_from_many_threads_gives_the_same_ids_as_one_thread()
    {
        var lines = TestData.Lines(TestData.SotuPath).Take(40).ToArray();
        var expected = lines.Select(l => Uncased.Value.Encode(l).Ids).ToArray();
        var parallel = lines.AsParallel().AsOrdered().WithDegreeOfParallelism(4).Select(l => Uncased.Value.Encode(l).Ids).ToArray();
        Assert.Equal(expected, parallel);
    }
}
