using System.Globalization;
using System.Text;

namespace SharpLM.Tests.Text;

/// <summary>
/// Where Hugging Face's Rust tokenizer and its Python BertTokenizer class a character differently, so
/// that SharpLM (which follows Python's rules, on .NET's Unicode data) and the Rust tokenizer give
/// different ids for it. Found by comparing every code point (TokenizerDifferentialTests); each case
/// has a named test there.
/// </summary>
internal static class RustTokenizerDisagreements
{
    /// <summary>
    /// Characters that the Rust tokenizer's Unicode tables (the unicode_categories crate, generated from
    /// Unicode 8.0 in 2015) class otherwise than .NET's: assigned since (new punctuation, marks, format
    /// characters) or re-categorised since (U+166D from Po to So, U+1734 from Mn to Mc).
    /// </summary>
    private static readonly (int First, int Last)[] Unicode8Tables =
    [
        (0x61D, 0x61D), (0x7FD, 0x7FD), (0x890, 0x891), (0x897, 0x89F), (0x8CA, 0x8E2), (0x9FD, 0x9FE), (0xA76, 0xA76),
        (0xAFA, 0xAFF), (0xB55, 0xB55), (0xC04, 0xC04), (0xC3C, 0xC3C), (0xC77, 0xC77), (0xC84, 0xC84), (0xD00, 0xD00),
        (0xD3B, 0xD3C), (0xD81, 0xD81), (0xEBA, 0xEBA), (0xECE, 0xECE), (0x166D, 0x166D), (0x1734, 0x1734), (0x180F, 0x180F),
        (0x1885, 0x1886), (0x1ABF, 0x1ACE), (0x1B4E, 0x1B4F), (0x1B7D, 0x1B7F), (0x1DF6, 0x1DFB), (0x2E43, 0x2E4F),
        (0x2E52, 0x2E5D), (0xA82C, 0xA82C), (0xA8C5, 0xA8C5), (0xA8FF, 0xA8FF), (0xA9BD, 0xA9BD), (0x10D24, 0x10D27),
        (0x10D69, 0x10D6E), (0x10EAB, 0x10EAD), (0x10EFC, 0x10EFF), (0x10F46, 0x10F50), (0x10F55, 0x10F59),
        (0x10F82, 0x10F89), (0x11070, 0x11070), (0x11073, 0x11074), (0x110C2, 0x110C2), (0x110CD, 0x110CD),
        (0x111C9, 0x111C9), (0x111CF, 0x111CF), (0x1123E, 0x1123E), (0x11241, 0x11241), (0x1133B, 0x1133B),
        (0x113BB, 0x113C0), (0x113CE, 0x113CE), (0x113D0, 0x113D0), (0x113D2, 0x113D2), (0x113D4, 0x113D5),
        (0x113D7, 0x113D8), (0x113E1, 0x113E2), (0x11438, 0x1143F), (0x11442, 0x11444), (0x11446, 0x11446),
        (0x1144B, 0x1144F), (0x1145A, 0x1145B), (0x1145D, 0x1145E), (0x11660, 0x1166C), (0x116B9, 0x116B9),
        (0x1171E, 0x1171E), (0x1182F, 0x11837), (0x11839, 0x1183B), (0x1193B, 0x1193C), (0x1193E, 0x1193E),
        (0x11943, 0x11946), (0x119D4, 0x119D7), (0x119DA, 0x119DB), (0x119E0, 0x119E0), (0x119E2, 0x119E2),
        (0x11A01, 0x11A0A), (0x11A33, 0x11A38), (0x11A3B, 0x11A47), (0x11A51, 0x11A56), (0x11A59, 0x11A5B),
        (0x11A8A, 0x11A96), (0x11A98, 0x11A9C), (0x11A9E, 0x11AA2), (0x11B00, 0x11B09), (0x11BE1, 0x11BE1),
        (0x11C30, 0x11C36), (0x11C38, 0x11C3D), (0x11C3F, 0x11C3F), (0x11C41, 0x11C45), (0x11C70, 0x11C71),
        (0x11C92, 0x11CA7), (0x11CAA, 0x11CB0), (0x11CB2, 0x11CB3), (0x11CB5, 0x11CB6), (0x11D31, 0x11D36),
        (0x11D3A, 0x11D3A), (0x11D3C, 0x11D3D), (0x11D3F, 0x11D45), (0x11D47, 0x11D47), (0x11D90, 0x11D91),
        (0x11D95, 0x11D95), (0x11D97, 0x11D97), (0x11EF3, 0x11EF4), (0x11EF7, 0x11EF8), (0x11F00, 0x11F01),
        (0x11F36, 0x11F3A), (0x11F40, 0x11F40), (0x11F42, 0x11F4F), (0x11F5A, 0x11F5A), (0x11FFF, 0x11FFF),
        (0x12FF1, 0x12FF2), (0x13430, 0x13440), (0x13447, 0x13455), (0x1611E, 0x16129), (0x1612D, 0x1612F),
        (0x16D6D, 0x16D6F), (0x16E97, 0x16E9A), (0x16F4F, 0x16F4F), (0x16FE2, 0x16FE2), (0x16FE4, 0x16FE4),
        (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1E000, 0x1E006), (0x1E008, 0x1E018), (0x1E01B, 0x1E021),
        (0x1E023, 0x1E024), (0x1E026, 0x1E02A), (0x1E08F, 0x1E08F), (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE),
        (0x1E2EC, 0x1E2EF), (0x1E4EC, 0x1E4EF), (0x1E5EE, 0x1E5EF), (0x1E5FF, 0x1E5FF), (0x1E944, 0x1E94A),
        (0x1E95E, 0x1E95F)
    ];

    /// <summary>
    /// True for a code point that the two Hugging Face tokenizers treat differently: unassigned (Python
    /// drops every category C* character; Rust keeps what its tables do not list as a letter), in
    /// U+2B820-U+2B91F (Python's CJK ranges start CJK Extension E at U+2B820, Rust's at U+2B920), or
    /// classed otherwise by Rust's Unicode 8.0 tables.
    /// </summary>
    public static bool Involves(int codePoint) =>
        IsUnassigned(codePoint) || IsMissedCjk(codePoint) || InUnicode8Differences(codePoint);

    /// <summary>Unassigned in .NET's Unicode data (category Cn).</summary>
    public static bool IsUnassigned(int codePoint) =>
        codePoint is < 0xD800 or > 0xDFFF && Rune.GetUnicodeCategory(new Rune(codePoint)) == UnicodeCategory.OtherNotAssigned;

    /// <summary>The first 256 code points of CJK Extension E, which Rust's CJK test leaves out.</summary>
    public static bool IsMissedCjk(int codePoint) => codePoint is >= 0x2B820 and <= 0x2B91F;

    /// <summary>In <see cref="Unicode8Tables"/>.</summary>
    public static bool InUnicode8Differences(int codePoint)
    {
        int low = 0, high = Unicode8Tables.Length - 1;
        while (low <= high)
        {
            int middle = (low + high) / 2;
            var (first, last) = Unicode8Tables[middle];
            if (codePoint < first) high = middle - 1;
            else if (codePoint > last) low = middle + 1;
            else return true;
        }
        return false;
    }

    /// <summary>
    /// <paramref name="text"/> without the code points that <see cref="Involves"/> names and without lone
    /// surrogates, which the Rust tokenizer refuses (Python and SharpLM drop them).
    /// </summary>
    public static string Without(string text)
    {
        var builder = new StringBuilder(text.Length);
        for (int i = 0; i < text.Length; i++)
        {
            bool pair = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            int cp = pair ? char.ConvertToUtf32(text[i], text[i + 1]) : text[i];
            bool lone = !pair && char.IsSurrogate(text[i]);
            if (!lone && !Involves(cp)) builder.Append(text, i, pair ? 2 : 1);
            if (pair) i++;
        }
        return builder.ToString();
    }
}
