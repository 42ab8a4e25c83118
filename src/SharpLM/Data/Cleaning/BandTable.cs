namespace SharpLM.Data.Cleaning;

/// <summary>
/// The band keys of the LSH index: open addressing over two flat arrays, keyed by the high 32 bits of a
/// band key (which pick the slot too, so the table can grow without the rest of the key), holding the
/// first document stored under each key. Keys that agree in those 32 bits are confused, which only makes
/// an extra candidate (at a million documents, about one lookup in two hundred): every candidate is
/// checked on its signature. Eight bytes a slot, at most half full, against about 40 for a Dictionary
/// entry, and one probe instead of a bucket, an entry and a comparison.
/// </summary>
internal sealed class BandTable
{
    private uint[] _tags = new uint[1 << 12];
    private int[] _documents = new int[1 << 12];
    private int _count;

    /// <summary>Bytes the table holds.</summary>
    public long Bytes => (long)_tags.Length * (sizeof(uint) + sizeof(int));

    /// <summary>The document stored under <paramref name="key"/>, or -1.</summary>
    public int Find(ulong key)
    {
        uint tag = Tag(key);
        int mask = _tags.Length - 1;
        for (int slot = (int)(tag & mask); _tags[slot] != 0; slot = (slot + 1) & mask)
            if (_tags[slot] == tag) return _documents[slot];
        return -1;
    }

    /// <summary>Stores <paramref name="document"/> under <paramref name="key"/> unless the key holds one already.</summary>
    public void TryAdd(ulong key, int document)
    {
        if (2 * (_count + 1) > _tags.Length) Grow();
        Place(Tag(key), document);
    }

    // Zero marks an empty slot, so a tag is never zero.
    private static uint Tag(ulong key) => (uint)(key >> 32) | 1;

    private void Place(uint tag, int document)
    {
        int mask = _tags.Length - 1;
        int slot = (int)(tag & mask);
        for (; _tags[slot] != 0; slot = (slot + 1) & mask)
            if (_tags[slot] == tag) return;
        (_tags[slot], _documents[slot]) = (tag, document);
        _count++;
    }

    /// <summary>Writes the table (for a resumable run's checkpoint).</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(_tags.Length);
        writer.Write(_count);
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_tags.AsSpan()));
        writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_documents.AsSpan()));
    }

    /// <summary>Reads what <see cref="Save"/> wrote.</summary>
    public void Load(BinaryReader reader)
    {
        int length = reader.ReadInt32();
        _count = reader.ReadInt32();
        (_tags, _documents) = (new uint[length], new int[length]);
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_tags.AsSpan()));
        reader.BaseStream.ReadExactly(System.Runtime.InteropServices.MemoryMarshal.AsBytes(_documents.AsSpan()));
    }

    private void Grow()
    {
        var (tags, documents) = (_tags, _documents);
        (_tags, _documents, _count) = (new uint[tags.Length * 2], new int[tags.Length * 2], 0);
        for (int i = 0; i < tags.Length; i++)
            if (tags[i] != 0) Place(tags[i], documents[i]);
    }
}
