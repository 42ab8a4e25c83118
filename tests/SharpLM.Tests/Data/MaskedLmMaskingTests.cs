using SharpLM.Data;
using SharpLM.Text;

namespace SharpLM.Tests.Data;

public class MaskedLmMaskingTests
{
    private static readonly Lazy<(BertTokenizer Tokenizer, List<int[]> Examples)> Real = new(() =>
    {
        var tokenizer = BertTokenizer.Load(TestData.BertBaseUncasedVocab);
        var examples = TestData.Lines(TestData.SotuPath).SelectMany(SentenceSplitter.Split).Take(3000)
            .Select(s => tokenizer.Encode(s, maxLength: 128).Ids).ToList();
        return (tokenizer, examples);
    });

    [Fact]
    public void Fifteen_percent_are_chosen_never_special_tokens_and_80_10_10_replacements()
    {
        var (tokenizer, examples) = Real.Value;
        var vocabulary = tokenizer.Vocabulary;
        var masking = new MaskedLmMasking(vocabulary, 0.15, maxPredictions: 20, wholeWord: false);
        var random = new Random(1);
        long tokens = 0, chosen = 0, masked = 0, kept = 0, replaced = 0;
        foreach (var ids in examples)
        {
            var result = masking.Mask(ids, random);
            Assert.Equal(Math.Min(20, Math.Max(1, (int)Math.Round(ids.Length * 0.15, MidpointRounding.ToEven))), result.Positions.Length);
            Assert.Equal(result.Positions.Order(), result.Positions);
            foreach (int p in result.Positions) Assert.False(ids[p] == vocabulary.ClassifierId || ids[p] == vocabulary.SeparatorId);
            Assert.Equal(result.Positions.Select(p => ids[p]), result.Labels);
            tokens += ids.Length;
            chosen += result.Positions.Length;
            for (int i = 0; i < result.Positions.Length; i++)
            {
                if (result.InputIds[i] == vocabulary.MaskId) masked++;
                else if (result.InputIds[i] == result.Labels[i]) kept++;
                else { replaced++; Assert.False(vocabulary.IsSpecial(result.InputIds[i])); }
            }
        }
        Assert.InRange((double)chosen / tokens, 0.14, 0.16);
        Assert.InRange((double)masked / chosen, 0.78, 0.82);
        Assert.InRange((double)kept / chosen, 0.085, 0.115);
        Assert.InRange((double)replaced / chosen, 0.085, 0.115);
    }

    [Fact]
    public void Whole_word_masking_takes_every_piece_of_a_chosen_word()
    {
        var (tokenizer, examples) = Real.Value;
        var vocabulary = tokenizer.Vocabulary;
        var masking = new MaskedLmMasking(vocabulary, 0.15, maxPredictions: 20, wholeWord: true);
        var random = new Random(2);
        int wordsWithPieces = 0;
        foreach (var ids in examples)
        {
            var chosen = masking.Mask(ids, random).Positions.ToHashSet();
            for (int i = 1; i < ids.Length; i++)
            {
                if (!vocabulary[ids[i]].StartsWith("##")) continue;
                Assert.Equal(chosen.Contains(i - 1), chosen.Contains(i));
                if (chosen.Contains(i)) wordsWithPieces++;
            }
        }
        Assert.True(wordsWithPieces > 50, $"{wordsWithPieces} pieces masked with their words");
    }

    [Fact]
    public void A_mask_token_share_of_one_shows_every_chosen_position_as_mask()
    {
        var (tokenizer, examples) = Real.Value;
        var vocabulary = tokenizer.Vocabulary;
        var masking = new MaskedLmMasking(vocabulary, 0.4, maxPredictions: 52, wholeWord: false, maskTokenShare: 1.0);
        var random = new Random(3);
        long tokens = 0, chosen = 0;
        foreach (var ids in examples.Take(500))
        {
            var result = masking.Mask(ids, random);
            Assert.All(result.InputIds, id => Assert.Equal(vocabulary.MaskId, id));
            tokens += ids.Length;
            chosen += result.Positions.Length;
        }
        Assert.InRange((double)chosen / tokens, 0.38, 0.42);
    }
}
