using CsCheck;

namespace SharpLM.Tests.Text;

/// <summary>
/// Random text for the tokenizer's property and differential tests, built from fragments chosen to
/// reach its corners: every kind of character it treats specially.
/// </summary>
internal static class RandomUnicodeText
{
    /// <summary>Unicode's White_Space property, every character of it (PropList.txt).</summary>
    public static readonly int[] WhiteSpace =
    [
        0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
        0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    ];

    /// <summary>Cases per property: 10^5, or SHARPLM_PROPERTY_CASES.</summary>
    public static long Cases => long.TryParse(Environment.GetEnvironmentVariable("SHARPLM_PROPERTY_CASES"), out long n) ? n : 100_000;

    private static Gen<string> Code(int from, int to) => Gen.Int[from, to].Select(char.ConvertFromUtf32);

    private static Gen<string> Letters(int min, int max) => Gen.Int['a', 'z'].Array[min, max].Select(cs => new string(cs.Select(c => (char)c).ToArray()));

    /// <summary>One fragment: a word, a separator, a symbol, a control, a mark, a surrogate, an ideograph, a special token...</summary>
    public static readonly Gen<string> Fragment = Gen.Frequency(
        (20, Letters(1, 12)),
        (8, Gen.OneOf(" ", "  ", "\t", "\n", "\r\n", "\u00A0", "\u3000")),
        (4, Gen.Int[0, WhiteSpace.Length - 1].Select(i => char.ConvertFromUtf32(WhiteSpace[i]))),
        (6, Code(0x21, 0x7E)),
        (4, Code(0x00, 0x1F)),
        (2, Code(0x7F, 0x9F)), // DEL and the C1 controls
        (4, Code(0x300, 0x36F)), // combining marks
        (3, Gen.OneOf("\u200B", "\u200C", "\u200D", "\uFEFF", "\u2060", "\u00AD", "\u180E")), // zero-width, soft hyphen, Mongolian vowel separator
        (4, Code(0x10000, 0x10FFFF).Where(s => !char.IsSurrogate(s, 0) || s.Length == 2)), // astral: emoji, rare CJK
        (3, Gen.Int[0xD800, 0xDFFF].Select(c => ((char)c).ToString())), // lone surrogates
        (4, Code(0x4E00, 0x9FFF)), // CJK
        (6, Gen.Char.Select(c => c.ToString())), // anything in the BMP
        (2, Gen.OneOf("\uFFFE", "\uFFFF", "\uFFFD", "\u0130", "\u00DF", "\uFB01", "\u212A", "\u1E9E", "Å", "é", "e\u0301")),
        (2, Gen.OneOf("[MASK]", "[SEP]", "[CLS]", "[UNK]", "[PAD]", "[mask]")),
        (1, Letters(90, 400))); // longer than BERT's 100-character limit

    /// <summary>Up to 40 fragments joined.</summary>
    public static readonly Gen<string> Text = Fragment.Array[0, 40].Select(string.Concat);
}
