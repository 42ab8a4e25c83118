namespace SharpLM.Text;

/// <summary>A growable list of (id, start, end) triples that is reused between words and texts.</summary>
public sealed class PieceList
{
    private int[] _ids = new int[64];
    private int[] _starts = new int[64];
    private int[] _ends = new int[64];

    /// <summary>Number of pieces.</summary>
    public int Count { get; private set; }

    /// <summary>Vocabulary id of piece <paramref name="i"/>.</summary>
    public int Id(int i) => _ids[i];
    /// <summary>Start of piece <paramref name="i"/>.</summary>
    public int Start(int i) => _starts[i];
    /// <summary>End (exclusive) of piece <paramref name="i"/>.</summary>
    public int End(int i) => _ends[i];

    /// <summary>The ids as a span (valid until the next change).</summary>
    public ReadOnlySpan<int> Ids => _ids.AsSpan(0, Count);

    /// <summary>Appends a piece.</summary>
    public void Add(int id, int start, int end)
    {
        if (Count == _ids.Length)
        {
            Array.Resize(ref _ids, Count * 2);
            Array.Resize(ref _starts, Count * 2);
            Array.Resize(ref _ends, Count * 2);
        }
        _ids[Count] = id;
        _starts[Count] = start;
        _ends[Count] = end;
        Count++;
    }

    /// <summary>Overwrites the span of piece <paramref name="i"/>.</summary>
    public void SetSpan(int i, int start, int end)
    {
        _starts[i] = start;
        _ends[i] = end;
    }

    /// <summary>Removes every piece from <paramref name="count"/> on.</summary>
    public void Truncate(int count) => Count = count;

    /// <summary>Removes every piece.</summary>
    public void Clear() => Count = 0;
}
