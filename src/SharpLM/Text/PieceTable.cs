namespace SharpLM.Text;

/// <summary>
/// A read-only hash table from vocabulary pieces to ids, looked up by span with a hash the caller can
/// compute incrementally: WordPiece asks for every prefix of a word from the longest down, and
/// hashing each prefix afresh would cost O(n²) characters per word. Single characters (most of CJK
/// text and all punctuation) are answered from a direct table without hashing.
/// </summary>
/// <remarks>
/// Open addressing with linear probing at a load factor of at most one half. The hash is FNV-1a over
/// UTF-16 code units with a final avalanche; it is not randomised, which is safe here because the
/// table's keys come from the vocabulary, not from the text being looked up.
/// </remarks>
internal sealed class PieceTable
{
    /// <summary>The hash of the empty prefix.</summary>
    public const uint Seed = 2166136261u;

    private readonly string?[] _keys;
    private readonly uint[] _hashes;
    private readonly int[] _ids;
    private readonly int _mask;
    private readonly int[] _singleChar = new int[0x10000];

    public PieceTable(IReadOnlyList<(string Key, int Id)> entries)
    {
        int capacity = 16;
        while (capacity < entries.Count * 2) capacity <<= 1;
        _keys = new string?[capacity];
        _hashes = new uint[capacity];
        _ids = new int[capacity];
        _mask = capacity - 1;
        Array.Fill(_singleChar, -1);
        foreach (var (key, id) in entries)
        {
            MaxKeyLength = Math.Max(MaxKeyLength, key.Length);
            if (key.Length == 1 && _singleChar[key[0]] < 0) _singleChar[key[0]] = id;
            uint hash = Seed;
            foreach (char c in key) hash = Step(hash, c);
            hash = Finish(hash);
            int slot = (int)hash & _mask;
            while (_keys[slot] is not null)
            {
                if (_keys[slot] == key) goto next; // first id wins, as in a dictionary built with TryAdd
                slot = (slot + 1) & _mask;
            }
            _keys[slot] = key;
            _hashes[slot] = hash;
            _ids[slot] = id;
        next:;
        }
    }

    /// <summary>Length in UTF-16 code units of the longest key.</summary>
    public int MaxKeyLength { get; }

    /// <summary>Adds one character to a running hash.</summary>
    public static uint Step(uint hash, char c) => (hash ^ c) * 16777619u;

    /// <summary>Turns a running hash into the table's hash.</summary>
    public static uint Finish(uint hash)
    {
        hash ^= hash >> 16;
        hash *= 0x7feb352d;
        hash ^= hash >> 15;
        return hash;
    }

    /// <summary>The id of <paramref name="key"/>, whose finished hash is <paramref name="hash"/>, or -1.</summary>
    public int Find(ReadOnlySpan<char> key, uint hash)
    {
        if (key.Length == 1) return _singleChar[key[0]];
        int slot = (int)hash & _mask;
        while (true)
        {
            string? candidate = _keys[slot];
            if (candidate is null) return -1;
            if (_hashes[slot] == hash && candidate.AsSpan().SequenceEqual(key)) return _ids[slot];
            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>The id of a one-character key, or -1.</summary>
    public int FindChar(char c) => _singleChar[c];
}
