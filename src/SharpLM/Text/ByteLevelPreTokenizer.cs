using System.Globalization;
using System.Text;

namespace SharpLM.Text;

/// <summary>
/// GPT-2's pre-tokenisation, the split that Hugging Face's ByteLevel pre-tokenizer and tiktoken's gpt2 encoding make
/// with the pattern <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, written out
/// by hand: it is several times faster than the regular expression, and it classifies code points, where .NET's
/// Regex sees the two halves of a surrogate pair (so a letter outside the Basic Multilingual Plane, 𝐀, would not
/// be \p{L} to it, while Rust's regex and Oniguruma say it is).
/// </summary>
public static class ByteLevelPreTokenizer
{
    private static readonly string[] Contractions = ["s", "t", "re", "ve", "m", "ll", "d"];

    /// <summary>Appends the (start, length) of every piece of <paramref name="text"/>, in order; the pieces cover the text.</summary>
    public static void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces)
    {
        int i = 0;
        while (i < text.Length)
        {
            int end = PieceEnd(text, i);
            pieces.Add((i, end - i));
            i = end;
        }
    }

    private enum Kind { Letter, Number, Space, Other }

    private static Kind KindAt(ReadOnlySpan<char> text, int i, out int width)
    {
        Rune.DecodeFromUtf16(text[i..], out var rune, out width);
        if (Rune.IsWhiteSpace(rune)) return Kind.Space;
        return Rune.GetUnicodeCategory(rune) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Kind.Number,
            _ => Kind.Other,
        };
    }

    private static int PieceEnd(ReadOnlySpan<char> text, int start)
    {
        // 's 't 're 've 'm 'll 'd, case-sensitive as in GPT-2's pattern.
        if (text[start] == '\'')
            foreach (string c in Contractions)
                if (text[(start + 1)..].StartsWith(c, StringComparison.Ordinal)) return start + 1 + c.Length;

        var kind = KindAt(text, start, out int width);
        int body = start;
        if (text[start] == ' ' && start + 1 < text.Length)
        {
            var next = KindAt(text, start + 1, out int nextWidth);
            if (next != Kind.Space)
            {
                kind = next;
                body = start + 1;
                width = nextWidth;
            }
        }
        if (kind != Kind.Space) return RunEnd(text, body + width, kind);

        // Whitespace: the run, less its last character when a non-space follows (that one joins the next piece
        // as its leading space, or stands alone), but never less than one character.
        int end = RunEnd(text, start + width, Kind.Space);
        if (end == text.Length) return end;
        int lastStart = end - 1;
        if (char.IsLowSurrogate(text[lastStart]) && lastStart > start) lastStart--;
        return lastStart > start ? lastStart : end;
    }

    private static int RunEnd(ReadOnlySpan<char> text, int i, Kind kind)
    {
        while (i < text.Length && KindAt(text, i, out int width) == kind) i += width;
        return i;
    }
}
