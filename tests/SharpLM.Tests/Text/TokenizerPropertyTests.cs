using CsCheck;
using SharpLM.Text;

namespace SharpLM.Tests.Text;

/// <summary>
/// Properties of the tokenizer over random text: it never throws, its offsets stay inside the text,
/// never go backwards and never split a surrogate pair, and decoding an encoding of in-vocabulary words
/// gives the normalised text back. 10^5 cases per property (SHARPLM_PROPERTY_CASES changes the count);
/// a failure prints CsCheck's seed, which reproduces it.
/// </summary>
public class TokenizerPropertyTests
{
    private static readonly Lazy<Vocabulary> Vocab = new(() => Vocabulary.Load(TestData.BertBaseUncasedVocab));
    private static readonly BertTokenizer Uncased = new(Vocab.Value);
    private static readonly BertTokenizer Cased = new(Vocab.Value, lowercase: false);

    private static long Cases => RandomUnicodeText.Cases;

    private static readonly Gen<string> RandomText = RandomUnicodeText.Text;

    [Fact]
    public void Random_unicode_never_throws_and_offsets_lie_inside_the_text_in_order()
    {
        RandomText.Sample(text =>
        {
            foreach (var tokenizer in new[] { Uncased, Cased })
            {
                CheckOffsets(text, tokenizer.Encode(text));
                var pair = tokenizer.Encode(text, new string(text.Reverse().ToArray()), maxLength: 32);
                Assert.True(pair.Length <= 32);
            }
        }, iter: Cases);
    }

    [Fact]
    public void Decoding_an_encoding_of_in_vocabulary_words_gives_the_normalised_text()
    {
        // Whole words of the vocabulary that the tokenizer keeps whole, with punctuation Decode glues back.
        string[] words = Vocab.Value.Tokens
            .Where(t => t.Length > 0 && t.All(char.IsAsciiLetterOrDigit) && !Vocab.Value.IsSpecial(Vocab.Value.IdOf(t)))
            .Where(t => Uncased.Tokenize(t) is [var only] && only.Token == t)
            .ToArray();
        Assert.True(words.Length > 20_000, $"{words.Length} whole words");
        var word = Gen.Int[0, words.Length - 1].Select(i => words[i]);
        var cased = Gen.Bool.Array[0, 30];
        var piece = Gen.Select(word, Gen.Frequency((8, Gen.Const("")), (1, Gen.OneOf(".", ",", "?", "!"))), (w, p) => w + p);
        var text = Gen.Select(piece.Array[1, 30], cased, (pieces, upper) => (Text: string.Join(' ', pieces), Upper: upper));
        text.Sample(sample =>
        {
            string raw = new(sample.Text.Select((c, i) => i < sample.Upper.Length && sample.Upper[i] ? char.ToUpperInvariant(c) : c).ToArray());
            var encoding = Uncased.Encode(raw);
            Assert.Equal(sample.Text, Uncased.Decode(encoding.Ids));
            CheckOffsets(raw, encoding);
        }, iter: Cases);
    }

    private static void CheckOffsets(string text, EncodedText encoding)
    {
        int lastStart = 0, lastEnd = 0;
        for (int i = 0; i < encoding.Length; i++)
        {
            if (encoding.SpecialTokensMask[i] == 1 || encoding.TypeIds[i] == 1) continue;
            var (start, end) = encoding.Offsets[i];
            Assert.True(0 <= start && start < end && end <= text.Length, $"token {i} has offsets [{start}, {end}) in a text of {text.Length}");
            Assert.True(start >= lastStart && end >= lastEnd, $"token {i} [{start}, {end}) goes back from [{lastStart}, {lastEnd})");
            Assert.False(start > 0 && char.IsHighSurrogate(text[start - 1]) && char.IsLowSurrogate(text[start]), $"token {i} starts inside a surrogate pair");
            Assert.False(end < text.Length && char.IsHighSurrogate(text[end - 1]) && char.IsLowSurrogate(text[end]), $"token {i} ends inside a surrogate pair");
            (lastStart, lastEnd) = (start, end);
        }
    }
}
