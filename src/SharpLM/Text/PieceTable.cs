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

    // One 16-byte slot per entry, so that a probe touches one cache line; key characters live in one pool.
    private struct Slot
    {
        public uint Hash;
        public int Id;      // -1: empty
        public int Offset;  // into _pool
        public int Length;
    }

    private readonly Slot[] _slots;
    private readonly char[] _pool;
    private readonly int _mask;
    private readonly int[] _singleChar = new int[0x10000];

    public PieceTable(IReadOnlyList<(string Key, int Id)> entries)
    {
        int capacity = 16;
        while (capacity < entries.Count * 2) capacity <<= 1;
        _slots = new Slot[capacity];
        for (int i = 0; i < capacity; i++) _slots[i].Id = -1;
        _pool = new char[entries.Sum(e => e.Key.Length)];
        _mask = capacity - 1;
        Array.Fill(_singleChar, -1);
        int used = 0;
        foreach (var (key, id) in entries)
        {
            MaxKeyLength = Math.Max(MaxKeyLength, key.Length);
            if (key.Length == 1 && _singleChar[key[0]] < 0) _singleChar[key[0]] = id;
            uint hash = Seed;
            foreach (char c in key) hash = Step(hash, c);
            hash = Finish(hash);
            if (Find(key, hash, includeSingle: false) >= 0) continue; // first id wins, as in a dictionary built with TryAdd
            int slot = (int)hash & _mask;
            while (_slots[slot].Id >= 0) slot = (slot + 1) & _mask;
            key.CopyTo(_pool.AsSpan(used));
            _slots[slot] = new Slot { Hash = hash, Id = id, Offset = used, Length = key.Length };
            used += key.Length;
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
    public int Find(ReadOnlySpan<char> key, uint hash) => Find(key, hash, includeSingle: true);

    private int Find(ReadOnlySpan<char> key, uint hash, bool includeSingle)
    {
        if (includeSingle && key.Length == 1) return _singleChar[key[0]];
        var slots = _slots;
        int slot = (int)hash & _mask;
        while (true)
        {
            ref Slot candidate = ref slots[slot];
            if (candidate.Id < 0) return -1;
            if (candidate.Hash == hash && candidate.Length == key.Length && _pool.AsSpan(candidate.Offset, candidate.Length).SequenceEqual(key))
                return candidate.Id;
            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>The id of a one-character key, or -1.</summary>
    public int FindChar(char c) => _singleChar[c];
}
