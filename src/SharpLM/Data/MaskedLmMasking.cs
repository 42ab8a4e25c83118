using System.Runtime.InteropServices;
using SharpLM.Text;

namespace SharpLM.Data;

/// <summary>The masked-LM targets of one example: positions, the ids the model sees there, and the ids it must predict.</summary>
public sealed record MaskedPositions(int[] Positions, int[] InputIds, int[] Labels);

/// <summary>
/// BERT's masking (Google's create_masked_lm_predictions): round(length × probability) positions, at
/// most max_predictions, never [CLS], [SEP] or [PAD]; each chosen position is [MASK] 80% of the time, a
/// random token 10%, itself 10% (or [MASK] a chosen share of the time and the rest split evenly, as
/// Wettig et al. 2022 and Cramming try with all-[MASK]). With whole-word masking, a word's "##" pieces are chosen with it.
/// Random replacements are drawn from the non-special tokens (Google's script may draw [CLS] or
/// [MASK] itself; a model should not learn to expect them inside text).
/// </summary>
public sealed class MaskedLmMasking
{
    private readonly Vocabulary _vocabulary;
    private readonly double _probability;
    private readonly int _maxPredictions;
    private readonly bool _wholeWord;
    private readonly bool[] _continuation;
    private readonly double _maskTokenShare;

    /// <summary>Creates the masking for <paramref name="vocabulary"/>, which needs a [MASK] token.</summary>
    /// <param name="vocabulary">The vocabulary of the examples.</param>
    /// <param name="probability">Share of positions to predict.</param>
    /// <param name="maxPredictions">Most positions per example.</param>
    /// <param name="wholeWord">Choose a word's pieces together.</param>
    /// <param name="maskTokenShare">Share of chosen positions shown as [MASK] (BERT 0.8); the rest are half kept, half a random token.</param>
    public MaskedLmMasking(Vocabulary vocabulary, double probability, int maxPredictions, bool wholeWord, double maskTokenShare = 0.8)
    {
        _maskTokenShare = maskTokenShare;
        if (vocabulary.MaskId < 0) throw new InvalidInputException("the vocabulary has no [MASK] token; masked-LM pretraining needs one.");
        _vocabulary = vocabulary;
        _probability = probability;
        _maxPredictions = maxPredictions;
        _wholeWord = wholeWord;
        _continuation = vocabulary.Tokens.Select(t => t.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal) && t.Length > 2).ToArray();
    }

    /// <summary>Chooses and replaces the positions of <paramref name="ids"/> (a whole example, special tokens included).</summary>
    public MaskedPositions Mask(IReadOnlyList<int> ids, Random random)
    {
        var candidates = new List<List<int>>();
        for (int i = 0; i < ids.Count; i++)
        {
            int id = ids[i];
            if (id == _vocabulary.ClassifierId || id == _vocabulary.SeparatorId || id == _vocabulary.PadId) continue;
            if (_wholeWord && candidates.Count > 0 && _continuation[id] && candidates[^1][^1] == i - 1) candidates[^1].Add(i);
            else candidates.Add([i]);
        }
        random.Shuffle(CollectionsMarshal.AsSpan(candidates));
        int toPredict = Math.Min(_maxPredictions, Math.Max(1, (int)Math.Round(ids.Count * _probability, MidpointRounding.ToEven)));
        var chosen = new SortedDictionary<int, int>();
        foreach (var word in candidates)
        {
            if (chosen.Count >= toPredict) break;
            if (chosen.Count + word.Count > toPredict) continue;
            foreach (int position in word)
            {
                int input;
                if (random.NextDouble() < _maskTokenShare) input = _vocabulary.MaskId;
                else if (random.NextDouble() < 0.5) input = ids[position];
                else input = RandomToken(random);
                chosen[position] = input;
            }
        }
        var positions = chosen.Keys.ToArray();
        return new MaskedPositions(positions, chosen.Values.ToArray(), positions.Select(p => ids[p]).ToArray());
    }

    private int RandomToken(Random random)
    {
        while (true)
        {
            int id = random.Next(_vocabulary.Count);
            if (!_vocabulary.IsSpecial(id)) return id;
        }
    }
}
