namespace SharpLM.Text;

/// <summary>
/// The words of one text after BERT's basic tokenisation, each with the span of the original text it
/// came from. Buffers are reused between texts, so one instance serves a whole stream without
/// allocating; it is not thread-safe.
/// </summary>
public sealed class PreTokenizedText
{
    private char[] _chars = new char[256];
    private int[] _charStart = new int[256];
    private int[] _charEnd = new int[256];
    private int _charCount;
    private int[] _wordStart = new int[64];
    private int[] _wordLength = new int[64];
    private int[] _wordSpecialId = new int[64];
    private uint[] _wordHash = new uint[64];
    private int _openWordStart = -1;
    private uint _hash = PieceTable.Seed; // running hash of the open word, so WordPiece need not rehash a whole-word hit

    /// <summary>Number of words.</summary>
    public int Count { get; private set; }

    /// <summary>Number of normalised characters held.</summary>
    public int CharacterCount => _charCount;

    /// <summary>True while a word is being appended to.</summary>
    internal bool HasOpenWord => _openWordStart >= 0;

    /// <summary>The normalised characters of word <paramref name="index"/>.</summary>
    public ReadOnlySpan<char> Word(int index) => _chars.AsSpan(_wordStart[index], _wordLength[index]);

    /// <summary>The vocabulary id when the word is a special token typed in the text (such as [MASK]), else -1.</summary>
    public int SpecialTokenId(int index) => _wordSpecialId[index];

    /// <summary>The running (unfinished) <see cref="PieceTable"/> hash of word <paramref name="index"/>.</summary>
    internal uint WordHash(int index) => _wordHash[index];

    /// <summary>Start (inclusive) in the original text of the normalised character at <paramref name="charIndex"/> of word <paramref name="index"/>.</summary>
    public int OriginalStart(int index, int charIndex) => _charStart[_wordStart[index] + charIndex];

    /// <summary>End (exclusive) in the original text of the normalised character at <paramref name="charIndex"/> of word <paramref name="index"/>.</summary>
    public int OriginalEnd(int index, int charIndex) => _charEnd[_wordStart[index] + charIndex];

    internal void Clear()
    {
        _charCount = 0;
        Count = 0;
        _openWordStart = -1;
        _hash = PieceTable.Seed;
    }

    internal void Append(char c, int originalStart, int originalEnd)
    {
        if (_charCount == _chars.Length) GrowChars();
        if (_openWordStart < 0) _openWordStart = _charCount;
        _chars[_charCount] = c;
        _hash = PieceTable.Step(_hash, c);
        _charStart[_charCount] = originalStart;
        _charEnd[_charCount] = originalEnd;
        _charCount++;
    }

    /// <summary>Appends a run of ASCII word characters that map one-to-one onto the original text from <paramref name="originalStart"/> on.</summary>
    internal void AppendAscii(ReadOnlySpan<char> run, int originalStart, bool lowercase)
    {
        while (_charCount + run.Length > _chars.Length) GrowChars();
        if (_openWordStart < 0) _openWordStart = _charCount;
        var chars = _chars.AsSpan(_charCount, run.Length);
        var starts = _charStart.AsSpan(_charCount, run.Length);
        var ends = _charEnd.AsSpan(_charCount, run.Length);
        uint hash = _hash;
        for (int k = 0; k < run.Length; k++)
        {
            char c = run[k];
            if (lowercase && (uint)(c - 'A') <= 'Z' - 'A') c = (char)(c + 32);
            chars[k] = c;
            hash = PieceTable.Step(hash, c);
            starts[k] = originalStart + k;
            ends[k] = originalStart + k + 1;
        }
        _hash = hash;
        _charCount += run.Length;
    }

    internal void EndWord() => EndWord(-1);

    internal void AddSpecialToken(int id, int originalStart, int originalEnd)
    {
        EndWord();
        // A special word has one placeholder character so that its original span is recorded like any other.
        Append('\0', originalStart, originalEnd);
        EndWord(id);
    }

    private void EndWord(int specialId)
    {
        if (_openWordStart < 0) return;
        if (Count == _wordStart.Length)
        {
            Array.Resize(ref _wordStart, Count * 2);
            Array.Resize(ref _wordLength, Count * 2);
            Array.Resize(ref _wordSpecialId, Count * 2);
            Array.Resize(ref _wordHash, Count * 2);
        }
        _wordStart[Count] = _openWordStart;
        _wordLength[Count] = _charCount - _openWordStart;
        _wordSpecialId[Count] = specialId;
        _wordHash[Count] = _hash;
        Count++;
        _openWordStart = -1;
        _hash = PieceTable.Seed;
    }

    private void GrowChars()
    {
        int size = _chars.Length * 2;
        Array.Resize(ref _chars, size);
        Array.Resize(ref _charStart, size);
        Array.Resize(ref _charEnd, size);
    }
}
