using System.Text;

namespace SharpLM.Text;

/// <summary>Settings of <see cref="WordPieceTrainer"/>.</summary>
/// <param name="VocabSize">Tokens wanted, special tokens included.</param>
/// <param name="MinFrequency">A merge is learned only while its pair occurs at least this often.</param>
public sealed record WordPieceTrainerOptions(int VocabSize = 30522, int MinFrequency = 2);

/// <summary>
/// Learns a WordPiece vocabulary from word counts the way Hugging Face's <c>BertWordPieceTokenizer.train</c>
/// does: byte-pair-encoding merges over characters, where every character after the first of a word
/// carries the <c>##</c> prefix, so that the learned pieces are exactly the word-initial and
/// continuation tokens that WordPiece encoding looks up.
/// </summary>
/// <remarks>
/// <para>Why BPE merges (<see cref="PairMergeLearner"/>) rather than the likelihood score count(ab)/(count(a)·count(b)) of the
/// original WordPiece paper: a user who trains a vocabulary in Python with Hugging Face gets this
/// algorithm, so a SharpLM vocabulary is the one they know; and pair counts only ever fall as merges
/// are applied (only pairs with the new token rise), so a lazily updated max-heap finds the best pair
/// exactly, which keeps a 30k vocabulary from tens of megabytes to seconds. With the likelihood score,
/// every merge changes the score of every pair that shares a token with it, and no such heap exists.</para>
/// <para>The vocabulary starts with the special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]), then every
/// character seen (so every CJK ideograph is a token), then the <c>##</c> form of every character seen
/// inside a word, then the merges in the order they were learned. Ties between equally frequent pairs go
/// to the pair of earlier-created tokens, so training is deterministic.</para>
/// </remarks>
public sealed class WordPieceTrainer
{
    private readonly WordPieceTrainerOptions _options;

    /// <summary>Creates a trainer.</summary>
    public WordPieceTrainer(WordPieceTrainerOptions options)
    {
        if (options.VocabSize < Vocabulary.SpecialTokens.Count + 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"vocabulary size must be more than the {Vocabulary.SpecialTokens.Count} special tokens");
        if (options.MinFrequency < 1) throw new ArgumentOutOfRangeException(nameof(options), "minimum frequency must be at least 1");
        _options = options;
    }

    /// <summary>Reports progress: merges learned so far and the vocabulary size reached.</summary>
    public event Action<int, int>? Progress;

    /// <summary>Learns a vocabulary from <paramref name="wordCounts"/> (pre-tokenised words and how often each occurs).</summary>
    public Vocabulary Train(IReadOnlyDictionary<string, long> wordCounts)
    {
        var tokens = new TokenIds(Vocabulary.SpecialTokens);

        // Words in a fixed order, so that the result does not depend on dictionary order.
        var entries = wordCounts.Where(p => p.Key.Length > 0).OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
        var initialChars = new SortedSet<string>(StringComparer.Ordinal);
        var innerChars = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (word, _) in entries)
        {
            bool first = true;
            foreach (Rune r in word.EnumerateRunes())
            {
                (first ? initialChars : innerChars).Add(r.ToString());
                first = false;
            }
        }
        foreach (string c in initialChars.Union(innerChars).Order(StringComparer.Ordinal)) tokens.Intern(c);
        foreach (string c in innerChars) tokens.Intern(Vocabulary.ContinuationPrefix + c);

        var words = new int[entries.Length][];
        var weights = new long[entries.Length];
        for (int w = 0; w < entries.Length; w++)
        {
            var symbols = new List<int>();
            bool first = true;
            foreach (Rune r in entries[w].Key.EnumerateRunes())
            {
                symbols.Add(tokens.Ids[first ? r.ToString() : Vocabulary.ContinuationPrefix + r]);
                first = false;
            }
            words[w] = symbols.ToArray();
            weights[w] = entries[w].Value;
        }

        int merges = PairMergeLearner.Learn(words, weights, _options.MinFrequency, () => tokens.Count < _options.VocabSize, (a, b) =>
        {
            string right = tokens.Tokens[b];
            return tokens.Intern(tokens.Tokens[a] + (right.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal) ? right[2..] : right));
        }, count => { if (count % 1000 == 0) Progress?.Invoke(count, tokens.Count); });
        Progress?.Invoke(merges, tokens.Count);
        return new Vocabulary(tokens.Tokens, "trained vocabulary");
    }
}
