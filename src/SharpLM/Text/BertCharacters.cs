using System.Globalization;
using System.Text;

namespace SharpLM.Text;

/// <summary>
/// The character classes of BERT's BasicTokenizer (Google's tokenization.py, Hugging Face's
/// BertTokenizer): what is dropped, what separates words, what becomes a word of its own.
/// </summary>
/// <remarks>
/// The classes follow Python's <c>unicodedata</c> categories as BertTokenizer uses them: control is any
/// category C* except tab, newline and carriage return (so the White_Space controls U+000B, U+000C and
/// U+0085 are dropped, as both Hugging Face tokenizers drop them before splitting); whitespace is space,
/// tab, newline, carriage return, category Zs, and U+2028 and U+2029 (categories Zl and Zp, the only
/// other White_Space characters: <c>_clean_text</c> keeps them and Python's <c>str.split</c> splits
/// there, as Rust's <c>char::is_whitespace</c> does); punctuation is category P* or any
/// non-alphanumeric printable ASCII character. The Basic Multilingual Plane is answered from a table
/// built once.
/// </remarks>
public static class BertCharacters
{
    [Flags]
    private enum Kind : byte { None = 0, Drop = 1, Whitespace = 2, Punctuation = 4, Cjk = 8 }

    private static readonly Kind[] Bmp = BuildBmpTable();

    /// <summary>True when the code point is removed before splitting: NUL, U+FFFD and control characters.</summary>
    public static bool IsDropped(int codePoint) => codePoint < 0x10000 ? (Bmp[codePoint] & Kind.Drop) != 0 : Classify(codePoint).HasFlag(Kind.Drop);

    /// <summary>True when the code point separates words (and is itself dropped).</summary>
    public static bool IsWhitespace(int codePoint) => codePoint < 0x10000 ? (Bmp[codePoint] & Kind.Whitespace) != 0 : Classify(codePoint).HasFlag(Kind.Whitespace);

    /// <summary>True when the code point becomes a word of its own (Unicode P* or ASCII symbols).</summary>
    public static bool IsPunctuation(int codePoint) => codePoint < 0x10000 ? (Bmp[codePoint] & Kind.Punctuation) != 0 : Classify(codePoint).HasFlag(Kind.Punctuation);

    /// <summary>True for the CJK Unified Ideograph blocks that BERT puts spaces around.</summary>
    public static bool IsCjk(int codePoint) =>
        codePoint is >= 0x4E00 and <= 0x9FFF
            or >= 0x3400 and <= 0x4DBF
            or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F
            or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF
            or >= 0x2F800 and <= 0x2FA1F;

    private static Kind[] BuildBmpTable()
    {
        var table = new Kind[0x10000];
        for (int cp = 0; cp < table.Length; cp++) table[cp] = Classify(cp);
        return table;
    }

    private static Kind Classify(int cp)
    {
        if (cp == 0 || cp == 0xFFFD) return Kind.Drop;
        if (cp is ' ' or '\t' or '\n' or '\r') return Kind.Whitespace;
        UnicodeCategory category = cp is >= 0xD800 and <= 0xDFFF
            ? UnicodeCategory.Surrogate
            : Rune.GetUnicodeCategory(new Rune(cp));
        switch (category)
        {
            case UnicodeCategory.SpaceSeparator:
            case UnicodeCategory.LineSeparator:
            case UnicodeCategory.ParagraphSeparator:
                return Kind.Whitespace;
            case UnicodeCategory.Control:
            case UnicodeCategory.Format:
            case UnicodeCategory.Surrogate:
            case UnicodeCategory.PrivateUse:
            case UnicodeCategory.OtherNotAssigned:
                return Kind.Drop;
            case UnicodeCategory.ConnectorPunctuation:
            case UnicodeCategory.DashPunctuation:
            case UnicodeCategory.OpenPunctuation:
            case UnicodeCategory.ClosePunctuation:
            case UnicodeCategory.InitialQuotePunctuation:
            case UnicodeCategory.FinalQuotePunctuation:
            case UnicodeCategory.OtherPunctuation:
                return Kind.Punctuation;
        }
        if (cp is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126) return Kind.Punctuation;
        return IsCjk(cp) ? Kind.Cjk : Kind.None;
    }
}
