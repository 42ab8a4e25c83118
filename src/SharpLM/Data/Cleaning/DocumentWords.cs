using System.Globalization;

namespace SharpLM.Data.Cleaning;

/// <summary>
/// The words of a document as the Gopher rules count them: runs of non-white-space characters, and for
/// Chinese every Han character on its own. Words are kept as (start, length) spans of the text, with a
/// 64-bit hash each, so that n-gram counting never builds strings.
/// </summary>
internal sealed class DocumentWords
{
    private readonly List<int> _starts = new();
    private readonly List<int> _lengths = new();
    private readonly List<ulong> _hashes = new();

    /// <summary>The text the words are spans of.</summary>
    public string Text { get; private set; } = "";

    /// <summary>How many words.</summary>
    public int Count => _starts.Count;

    /// <summary>Starts of all words.</summary>
    public ReadOnlySpan<int> Starts => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_starts);

    /// <summary>Lengths of all words.</summary>
    public ReadOnlySpan<int> Lengths => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_lengths);

    /// <summary>Length of word <paramref name="i"/>.</summary>
    public int Length(int i) => _lengths[i];

    /// <summary>Hash of word <paramref name="i"/>'s characters.</summary>
    public ulong Hash(int i) => _hashes[i];

    /// <summary>Splits <paramref name="text"/> into words (reusing this object's buffers), hashing each as it goes.</summary>
    public DocumentWords Split(string text, CleaningLanguage language)
    {
        Text = text;
        _starts.Clear();
        _lengths.Clear();
        _hashes.Clear();
        bool chinese = language == CleaningLanguage.Chinese;
        int start = -1;
        ulong hash = 0;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            bool han = chinese && IsHan(c);
            if (han || (c <= ' ' ? c is ' ' or '\n' or '\t' or '\r' or '\f' or '\v' : c >= '\u0085' && char.IsWhiteSpace(c)))
            {
                if (start >= 0) Add(start, i - start, hash);
                start = -1;
                if (han) Add(i, 1, (FnvOffset ^ c) * FnvPrime);
                continue;
            }
            if (start < 0) (start, hash) = (i, FnvOffset);
            hash = (hash ^ c) * FnvPrime;
        }
        if (start >= 0) Add(start, text.Length - start, hash);
        return this;
    }

    /// <summary>64-bit FNV-1a's offset basis.</summary>
    public const ulong FnvOffset = 14695981039346656037UL;

    /// <summary>64-bit FNV-1a's prime.</summary>
    public const ulong FnvPrime = 1099511628211UL;

    private void Add(int start, int length, ulong fnv)
    {
        _starts.Add(start);
        _lengths.Add(length);
        _hashes.Add(Mix(fnv));
    }

    /// <summary>True for CJK unified ideographs (the basic block, extension A and the compatibility block).</summary>
    public static bool IsHan(char c) => c is >= '\u4E00' and <= '\u9FFF' or >= '\u3400' and <= '\u4DBF' or >= '\uF900' and <= '\uFAFF';

    /// <summary>For ASCII: <see cref="Letter"/> and <see cref="Symbol"/> flags (punctuation counts as a symbol).</summary>
    public static ReadOnlySpan<byte> AsciiClasses => AsciiTable;

    /// <summary>A letter, in <see cref="AsciiClasses"/>.</summary>
    public const byte Letter = 1;

    /// <summary>Punctuation or a symbol, in <see cref="AsciiClasses"/>.</summary>
    public const byte Symbol = 2;

    private static readonly byte[] AsciiTable = Enumerable.Range(0, 128)
        .Select(c => (byte)((char.IsAsciiLetter((char)c) ? Letter : 0) | (c > ' ' && c != 127 && !char.IsAsciiLetterOrDigit((char)c) ? Symbol : 0))).ToArray();

    /// <summary>True when <paramref name="c"/> is punctuation or a symbol (a word of only these is not a word for the length and count rules).</summary>
    public static bool IsPunctuationOrSymbol(char c) => c < 128 ? (AsciiTable[c] & Symbol) != 0 : char.GetUnicodeCategory(c) is
        UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation or
        UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or
        UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or
        UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol;

    /// <summary>64-bit FNV-1a over the characters, finished with a SplitMix64 mix so that nearby words spread.</summary>
    public static ulong HashOf(ReadOnlySpan<char> chars)
    {
        ulong hash = FnvOffset;
        foreach (char c in chars) hash = (hash ^ c) * FnvPrime;
        return Mix(hash);
    }

    /// <summary>SplitMix64's finaliser.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
