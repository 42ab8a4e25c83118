namespace SharpLM.Text;

/// <summary>
/// WordPiece: splits one pre-tokenised word into vocabulary pieces, greedy longest match first, the
/// pieces after the first spelled with the <c>##</c> prefix. A word that cannot be spelled, or that is
/// longer than <see cref="MaxWordCodePoints"/> code points, becomes a single [UNK], as in BERT.
/// </summary>
/// <remarks>
/// Lookups take spans of the word (no substring is allocated): word-initial pieces and continuation
/// pieces live in two <see cref="PieceTable"/>s, the latter keyed without the prefix.
/// </remarks>
public sealed class WordPieceEncoder
{
    /// <summary>Words longer than this many code points become [UNK] (BERT's max_input_chars_per_word).</summary>
    public const int MaxWordCodePoints = 100;

    private readonly PieceTable _initial;
    private readonly PieceTable _continuation;

    /// <summary>Creates an encoder over <paramref name="vocabulary"/>.</summary>
    public WordPieceEncoder(Vocabulary vocabulary)
    {
        Vocabulary = vocabulary;
        var initial = new List<(string, int)>();
        var continuation = new List<(string, int)>();
        for (int id = 0; id < vocabulary.Count; id++)
        {
            string token = vocabulary[id];
            if (token.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal) && token.Length > Vocabulary.ContinuationPrefix.Length)
                continuation.Add((token[Vocabulary.ContinuationPrefix.Length..], id));
            else
                initial.Add((token, id));
        }
        _initial = new PieceTable(initial);
        _continuation = new PieceTable(continuation);
    }

    /// <summary>The vocabulary the pieces come from.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>
    /// Appends the pieces of <paramref name="word"/> to <paramref name="output"/>: for each piece its id and
    /// the range [start, end) of characters of <paramref name="word"/> it covers.
    /// </summary>
    /// <returns>False when the word became [UNK].</returns>
    public bool Encode(ReadOnlySpan<char> word, PieceList output)
    {
        uint hash = PieceTable.Seed;
        foreach (char c in word) hash = PieceTable.Step(hash, c);
        return Encode(word, hash, output);
    }

    /// <summary>
    /// As <see cref="Encode(ReadOnlySpan{char}, PieceList)"/>, given the running <see cref="PieceTable"/>
    /// hash of the whole word (the pre-tokenizer computes it while it copies the characters).
    /// </summary>
    internal bool Encode(ReadOnlySpan<char> word, uint wordHash, PieceList output)
    {
        if (word.Length == 1)
        {
            int only = _initial.FindChar(word[0]);
            output.Add(only >= 0 ? only : Vocabulary.UnknownId, 0, 1);
            return only >= 0;
        }
        int mark = output.Count;
        if (word.Length > MaxWordCodePoints && CountCodePoints(word) > MaxWordCodePoints)
        {
            output.Add(Vocabulary.UnknownId, 0, word.Length);
            return false;
        }
        // Words over 100 code points are [UNK] above, so this is at most 201 entries.
        // Most words are in the vocabulary whole: one probe with the hash already at hand.
        if (word.Length <= _initial.MaxKeyLength)
        {
            int whole = _initial.Find(word, PieceTable.Finish(wordHash));
            if (whole >= 0)
            {
                output.Add(whole, 0, word.Length);
                return true;
            }
        }
        Span<uint> prefixHash = stackalloc uint[Math.Min(word.Length, Math.Max(_initial.MaxKeyLength, _continuation.MaxKeyLength)) + 1];
        int start = 0;
        while (start < word.Length)
        {
            var table = start == 0 ? _initial : _continuation;
            int longest = Math.Min(word.Length - start, table.MaxKeyLength);
            // Hash every prefix once, then try them from the longest down.
            uint hash = PieceTable.Seed;
            for (int k = 1; k <= longest; k++)
            {
                hash = PieceTable.Step(hash, word[start + k - 1]);
                prefixHash[k] = hash;
            }
            int id = -1, length = longest;
            for (; length > 0; length--)
            {
                int end = start + length;
                // Never cut a surrogate pair: a piece is a run of whole code points.
                if (end < word.Length && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) continue;
                id = table.Find(word.Slice(start, length), PieceTable.Finish(prefixHash[length]));
                if (id >= 0) break;
            }
            if (id < 0)
            {
                output.Truncate(mark);
                output.Add(Vocabulary.UnknownId, 0, word.Length);
                return false;
            }
            output.Add(id, start, start + length);
            start += length;
        }
        return true;
    }

    private static int CountCodePoints(ReadOnlySpan<char> word)
    {
        int count = 0;
        for (int i = 0; i < word.Length; i++)
        {
            if (char.IsHighSurrogate(word[i]) && i + 1 < word.Length && char.IsLowSurrogate(word[i + 1])) i++;
            count++;
        }
        return count;
    }
}
