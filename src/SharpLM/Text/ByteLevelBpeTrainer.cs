using System.Text;

namespace SharpLM.Text;

/// <summary>
/// Learns a byte-level BPE vocabulary as Hugging Face's ByteLevelBPETokenizer.train does: the special tokens
/// first, then the 256 byte characters (in character order, as its trainer sorts its alphabet), then one token per
/// merge of the most frequent adjacent pair (<see cref="PairMergeLearner"/>) within GPT-2's pieces, until the
/// vocabulary has the size asked for or no pair occurs <c>minFrequency</c> times.
/// </summary>
public static class ByteLevelBpeTrainer
{
    /// <summary>The end-of-text token GPT-2 uses, which separates documents.</summary>
    public const string EndOfText = "<|endoftext|>";

    /// <summary>
    /// Learns from <paramref name="pieceCounts"/> (pieces of text as <see cref="WordCounter.ByteLevel"/> counts them).
    /// <paramref name="progress"/> hears the merges and the vocabulary size every 1,000 merges and at the end.
    /// </summary>
    /// <exception cref="InvalidInputException">The size leaves no room beyond the special tokens and the 256 bytes.</exception>
    public static ByteLevelBpeTokenizer Train(IReadOnlyDictionary<string, long> pieceCounts, int vocabSize, int minFrequency, IReadOnlyList<string> specialTokens,
        Action<int, int>? progress = null)
    {
        int floor = specialTokens.Count + 256;
        if (vocabSize <= floor) throw new InvalidInputException($"--vocab-size {vocabSize}: must be more than the {specialTokens.Count} special tokens and 256 bytes ({floor}).");
        var tokens = new TokenIds(specialTokens);
        foreach (char c in ByteLevelAlphabet.All.Order()) tokens.Intern(c.ToString());

        // Pieces in a fixed order, so that the result does not depend on dictionary order.
        var entries = pieceCounts.Where(p => p.Key.Length > 0).OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
        var words = new int[entries.Length][];
        var weights = new long[entries.Length];
        for (int w = 0; w < entries.Length; w++)
        {
            words[w] = Encoding.UTF8.GetBytes(entries[w].Key).Select(b => tokens.Ids[ByteLevelAlphabet.Of(b).ToString()]).ToArray();
            weights[w] = entries[w].Value;
        }
        var merges = new List<(string, string)>();
        int count = PairMergeLearner.Learn(words, weights, minFrequency, () => tokens.Count < vocabSize, (a, b) =>
        {
            merges.Add((tokens.Tokens[a], tokens.Tokens[b]));
            return tokens.Intern(tokens.Tokens[a] + tokens.Tokens[b]);
        }, n => { if (n % 1000 == 0) progress?.Invoke(n, tokens.Count); });
        progress?.Invoke(count, tokens.Count);
        return new ByteLevelBpeTokenizer(tokens.Ids, merges, specialTokens, "trained tokenizer");
    }
}
