namespace SharpLM.Text;

/// <summary>
/// WordPiece: splits one pre-tokenised word into vocabulary pieces, greedy longest match first, the
/// pieces after the first spelled with the <c>##</c> prefix. A word that cannot be spelled, or that is
/// longer than <see cref="MaxWordCodePoints"/> code points, becomes a single [UNK], as in BERT.
/// </summary>
/// <remarks>
/// Lookups take spans of the word (no substring is allocated): word-initial pieces and continuation
/// pieces live in two tables, the latter keyed without the prefix.
/// </remarks>
public sealed class WordPieceEncoder
{
    /// <summary>Words longer than this many code points become [UNK] (BERT's max_input_chars_per_word).</summary>
    public const int MaxWordCodePoints = 100;

    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _initial;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuation;
    private readonly int _maxInitialLength;
    private readonly int _maxContinuationLength;

    /// <summary>Creates an encoder over <paramref name="vocabulary"/>.</summary>
    public WordPieceEncoder(Vocabulary vocabulary)
    {
        Vocabulary = vocabulary;
        var initial = new Dictionary<string, int>(StringComparer.Ordinal);
        var continuation = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < vocabulary.Count; id++)
        {
            string token = vocabulary[id];
            if (token.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal) && token.Length > Vocabulary.ContinuationPrefix.Length)
            {
                string rest = token[Vocabulary.ContinuationPrefix.Length..];
                continuation.TryAdd(rest, id);
                _maxContinuationLength = Math.Max(_maxContinuationLength, rest.Length);
            }
            else
            {
                initial.TryAdd(token, id);
                _maxInitialLength = Math.Max(_maxInitialLength, token.Length);
            }
        }
        _initial = initial.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuation = continuation.GetAlternateLookup<ReadOnlySpan<char>>();
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
        int mark = output.Count;
        if (word.Length > MaxWordCodePoints && CountCodePoints(word) > MaxWordCodePoints)
        {
            output.Add(Vocabulary.UnknownId, 0, word.Length);
            return false;
        }
        int start = 0;
        while (start < word.Length)
        {
            bool first = start == 0;
            int maxLength = first ? _maxInitialLength : _maxContinuationLength;
            int end = Math.Min(word.Length, start + maxLength);
            int id = -1;
            while (end > start)
            {
                // Never cut a surrogate pair: a piece is a run of whole code points.
                if (end < word.Length && char.IsLowSurrogate(word[end]) && char.IsHighSurrogate(word[end - 1])) { end--; continue; }
                var piece = word[start..end];
                if ((first ? _initial : _continuation).TryGetValue(piece, out id)) break;
                end--;
            }
            if (end == start)
            {
                output.Truncate(mark);
                output.Add(Vocabulary.UnknownId, 0, word.Length);
                return false;
            }
            output.Add(id, start, end);
            start = end;
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
