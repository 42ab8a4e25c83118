using System.Text;

namespace SharpLM.Text;

/// <summary>
/// Byte-level BPE as GPT-2 and Hugging Face's ByteLevelBPETokenizer define it: text is cut into GPT-2's pieces
/// (<see cref="ByteLevelPreTokenizer"/>), each piece's UTF-8 bytes become byte characters
/// (<see cref="ByteLevelAlphabet"/>), and the learned merges join them, lowest rank first. Every byte is a token, so
/// nothing is unknown and decoding gives back the text byte for byte. Special tokens (such as &lt;|endoftext|&gt;)
/// are matched in the text before the split, as Hugging Face does with its added tokens.
/// </summary>
public sealed class ByteLevelBpeTokenizer
{
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<long, (int Rank, int Id)> _merges;
    private readonly int[] _byteIds = new int[256];
    private readonly string[] _specials;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    private readonly Lock _cacheGate = new();

    /// <summary>
    /// A tokenizer over <paramref name="vocabulary"/> (token → id; every byte character must be there) and
    /// <paramref name="merges"/> (pairs of tokens, highest priority first). <paramref name="specialTokens"/> are
    /// vocabulary entries matched whole in the text.
    /// </summary>
    /// <exception cref="InvalidInputException">A byte character, or a merge's part or result, is not in the vocabulary.</exception>
    public ByteLevelBpeTokenizer(IReadOnlyDictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges, IReadOnlyList<string> specialTokens, string source = "tokenizer")
    {
        int size = vocabulary.Count == 0 ? 0 : vocabulary.Values.Max() + 1;
        _tokens = new string[size];
        foreach (var (token, id) in vocabulary)
        {
            if (id < 0) throw new InvalidInputException($"{source}: token '{token}' has a negative id {id}.");
            if (_tokens[id] is not null) throw new InvalidInputException($"{source}: tokens '{_tokens[id]}' and '{token}' share the id {id}.");
            _tokens[id] = token;
        }
        _ids = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        for (int b = 0; b < 256; b++)
            _byteIds[b] = _ids.TryGetValue(ByteLevelAlphabet.Of((byte)b).ToString(), out int id) ? id
                : throw new InvalidInputException($"{source}: the byte character '{ByteLevelAlphabet.Of((byte)b)}' (byte {b}) is not in the vocabulary; a byte-level BPE vocabulary holds all 256.");
        _merges = new Dictionary<long, (int, int)>(merges.Count);
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            int Id(string token) => _ids.TryGetValue(token, out int id) ? id
                : throw new InvalidInputException($"{source}: merge {rank + 1} ('{left} {right}') uses '{token}', which is not in the vocabulary.");
            long key = PairMergeLearner.Pair(Id(left), Id(right));
            int merged = Id(left + right);
            _merges.TryAdd(key, (rank, merged));
        }
        foreach (string special in specialTokens)
            if (!_ids.ContainsKey(special)) throw new InvalidInputException($"{source}: special token '{special}' is not in the vocabulary.");
        // Longest first, so that one special token that starts another does not cut it.
        _specials = specialTokens.OrderByDescending(s => s.Length).ToArray();
        Merges = merges.ToArray();
        SpecialTokens = specialTokens.ToArray();
    }

    /// <summary>
    /// A tokenizer from tiktoken's form of a byte-level BPE: every token's bytes with its rank, which is also its id
    /// (GPT-2's gpt2.tiktoken, r50k_base). The merges are implied: a token of rank r is the one pair that BPE with
    /// the tokens of lower rank leaves of its bytes, and its merge has rank r.
    /// </summary>
    /// <exception cref="InvalidInputException">A byte is missing, or a token does not come from two of lower rank.</exception>
    public static ByteLevelBpeTokenizer FromMergeableRanks(IReadOnlyDictionary<byte[], int> ranks, IReadOnlyDictionary<string, int> specialTokens, string source = "ranks")
    {
        var byBytes = ranks.ToDictionary(p => ByteLevelAlphabet.Encode(p.Key), p => p.Value, StringComparer.Ordinal);
        var merges = new List<(string, string)>();
        foreach (var (token, rank) in byBytes.Where(p => p.Key.Length > 1).OrderBy(p => p.Value))
        {
            // tiktoken's merge rule on the token's own bytes, with the tokens ranked below it.
            var parts = token.Select(c => c.ToString()).ToList();
            while (parts.Count > 2)
            {
                int bestAt = -1, bestRank = int.MaxValue;
                for (int i = 0; i + 1 < parts.Count; i++)
                    if (byBytes.TryGetValue(parts[i] + parts[i + 1], out int r) && r < rank && r < bestRank) (bestAt, bestRank) = (i, r);
                if (bestAt < 0) break;
                parts[bestAt] += parts[bestAt + 1];
                parts.RemoveAt(bestAt + 1);
            }
            if (parts.Count != 2) throw new InvalidInputException($"{source}: the token of rank {rank} is not made of two tokens of lower rank.");
            merges.Add((parts[0], parts[1]));
        }
        var vocabulary = new Dictionary<string, int>(byBytes, StringComparer.Ordinal);
        foreach (var (special, id) in specialTokens) vocabulary[special] = id;
        return new ByteLevelBpeTokenizer(vocabulary, merges, specialTokens.Keys.ToList(), source);
    }

    /// <summary>Tokens in the vocabulary (one more than the largest id).</summary>
    public int Count => _tokens.Length;

    /// <summary>The merges, highest priority first.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>The special tokens, matched whole in the text.</summary>
    public IReadOnlyList<string> SpecialTokens { get; }

    /// <summary>The token of <paramref name="id"/> (in byte characters).</summary>
    public string Token(int id) => _tokens[id];

    /// <summary>The id of <paramref name="token"/>, or null.</summary>
    public int? Id(string token) => _ids.TryGetValue(token, out int id) ? id : null;

    /// <summary>Every token with its id.</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _ids;

    /// <summary>The ids of <paramref name="text"/>.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        Encode(text, ids);
        return ids.ToArray();
    }

    /// <summary>Appends the ids of <paramref name="text"/> to <paramref name="ids"/>.</summary>
    public void Encode(string text, List<int> ids)
    {
        int from = 0;
        while (from < text.Length)
        {
            var (at, special) = NextSpecial(text, from);
            EncodeOrdinary(text.AsSpan(from, at - from), ids);
            if (special is null) break;
            ids.Add(_ids[special]);
            from = at + special.Length;
        }
    }

    private (int At, string? Special) NextSpecial(string text, int from)
    {
        int best = text.Length;
        string? found = null;
        foreach (string special in _specials)
        {
            int at = text.IndexOf(special, from, StringComparison.Ordinal);
            if (at >= 0 && at < best) (best, found) = (at, special);
        }
        return (best, found);
    }

    private void EncodeOrdinary(ReadOnlySpan<char> text, List<int> ids)
    {
        if (text.IsEmpty) return;
        var pieces = new List<(int Start, int Length)>();
        ByteLevelPreTokenizer.Split(text, pieces);
        foreach (var (start, length) in pieces) ids.AddRange(EncodePiece(text.Slice(start, length)));
    }

    private int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        string key = piece.ToString();
        lock (_cacheGate)
            if (_cache.TryGetValue(key, out var cached)) return cached;
        var symbols = new List<int>();
        foreach (byte b in Encoding.UTF8.GetBytes(key)) symbols.Add(_byteIds[b]);
        // Merge the adjacent pair of lowest rank, leftmost first, until none is a merge. Equivalent to GPT-2's
        // "merge every occurrence of the best pair" because a merge's result only enters later (higher) ranks.
        while (symbols.Count > 1)
        {
            int bestAt = -1, bestRank = int.MaxValue, bestId = 0;
            for (int i = 0; i + 1 < symbols.Count; i++)
                if (_merges.TryGetValue(PairMergeLearner.Pair(symbols[i], symbols[i + 1]), out var merge) && merge.Rank < bestRank)
                    (bestAt, bestRank, bestId) = (i, merge.Rank, merge.Id);
            if (bestAt < 0) break;
            symbols[bestAt] = bestId;
            symbols.RemoveAt(bestAt + 1);
        }
        var result = symbols.ToArray();
        lock (_cacheGate)
        {
            // Bounded, so a stream of distinct pieces cannot grow it without limit.
            if (_cache.Count >= 1 << 18) _cache.Clear();
            _cache[key] = result;
        }
        return result;
    }

    /// <summary>
    /// The text of <paramref name="ids"/>: their bytes decoded as UTF-8, an invalid sequence (a multi-byte character
    /// cut between tokens) becoming U+FFFD as in Hugging Face's ByteLevel decoder.
    /// </summary>
    public string Decode(IEnumerable<int> ids) => Encoding.UTF8.GetString(DecodeBytes(ids));

    /// <summary>The bytes of <paramref name="ids"/> (special tokens as their UTF-8 text).</summary>
    public byte[] DecodeBytes(IEnumerable<int> ids)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if (id < 0 || id >= _tokens.Length || _tokens[id] is null) throw new InvalidInputException($"token id {id} is not in the vocabulary (size {_tokens.Length}).");
            string token = _tokens[id];
            if (!ByteLevelAlphabet.TryDecode(token, bytes)) bytes.AddRange(Encoding.UTF8.GetBytes(token));
        }
        return bytes.ToArray();
    }

    /// <summary>A short fingerprint of the tokens and merges, to check that data and models were made with the same tokenizer.</summary>
    public string Hash()
    {
        var text = new StringBuilder();
        foreach (string? token in _tokens) text.Append(token).Append('\n');
        foreach (var (left, right) in Merges) text.Append(left).Append(' ').Append(right).Append('\n');
        byte[] digest = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()));
        return Convert.ToHexStringLower(digest.AsSpan(0, 8));
    }

    /// <summary>How many bytes of text each id stands for (0 for a special token): the denominator of bits per byte.</summary>
    public int[] ByteLengths()
    {
        var lengths = new int[_tokens.Length];
        var scratch = new List<byte>();
        for (int id = 0; id < _tokens.Length; id++)
        {
            if (_tokens[id] is null || SpecialTokens.Contains(_tokens[id])) continue;
            scratch.Clear();
            lengths[id] = ByteLevelAlphabet.TryDecode(_tokens[id], scratch) ? scratch.Count : Encoding.UTF8.GetByteCount(_tokens[id]);
        }
        return lengths;
    }
}
