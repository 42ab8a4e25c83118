using System.Text;

namespace SharpLM.Text;

/// <summary>
/// BERT's BasicTokenizer: drops control characters, NUL and U+FFFD; splits on whitespace; optionally
/// lowercases and strips accents (NFD, then drops non-spacing marks); makes every CJK ideograph and
/// every punctuation character a word of its own. Special tokens typed in the text (such as
/// <c>[MASK]</c>) are kept whole, as Hugging Face's tokenizers do.
/// </summary>
/// <remarks>
/// Every normalised character remembers the span of the original character it came from, so token
/// offsets always point into the text the user gave, also after lowercasing and accent stripping.
/// Lowercasing follows Python's <c>str.lower</c>, which maps U+0130 (İ) to "i̇" where .NET leaves it.
/// Like Hugging Face's Rust BertNormalizer, no NFC composition is applied first.
/// </remarks>
public sealed class BertPreTokenizer
{
    private const byte AsciiWord = 0, AsciiSpace = 1, AsciiPunctuation = 2, AsciiDropped = 3;
    private static readonly byte[] AsciiClass = Enumerable.Range(0, 0x80).Select(c =>
        c is ' ' or '\t' or '\n' or '\r' ? AsciiSpace
        : c < 0x20 || c == 0x7F ? AsciiDropped
        : BertCharacters.IsPunctuation(c) ? AsciiPunctuation
        : AsciiWord).ToArray();

    private readonly bool _lowercase;
    private readonly bool _stripAccents;
    private readonly string?[] _bmpTransform;
    private readonly (string Text, int Id)[] _specialTokens;

    /// <summary>Creates a pre-tokenizer.</summary>
    /// <param name="lowercase">Lowercase the text (uncased models).</param>
    /// <param name="stripAccents">Strip accents; BERT does this exactly when it lowercases.</param>
    /// <param name="specialTokens">Special tokens to keep whole where they are typed in the text, with their ids.</param>
    public BertPreTokenizer(bool lowercase, bool stripAccents, IReadOnlyDictionary<string, int>? specialTokens = null)
    {
        _lowercase = lowercase;
        _stripAccents = stripAccents;
        _bmpTransform = TransformTables.For(lowercase, stripAccents);
        _specialTokens = specialTokens is null
            ? []
            : specialTokens.OrderByDescending(p => p.Key.Length).Select(p => (p.Key, p.Value)).ToArray();
    }

    /// <summary>True when the pre-tokenizer lowercases.</summary>
    public bool Lowercase => _lowercase;

    /// <summary>True when the pre-tokenizer strips accents.</summary>
    public bool StripAccents => _stripAccents;

    /// <summary>Splits <paramref name="text"/> into words, replacing the contents of <paramref name="output"/>.</summary>
    public void Split(ReadOnlySpan<char> text, PreTokenizedText output) => Split(text, 0, output, int.MaxValue);

    /// <summary>
    /// Splits <paramref name="text"/> from <paramref name="from"/> on, replacing the contents of
    /// <paramref name="output"/>, and stops at the first word boundary after about
    /// <paramref name="maxCharacters"/> normalised characters, so that a long text is processed in
    /// chunks that stay in cache. Offsets are into the whole <paramref name="text"/>.
    /// </summary>
    /// <returns>Where to continue: <c>text.Length</c> when the text is done.</returns>
    public int Split(ReadOnlySpan<char> text, int from, PreTokenizedText output, int maxCharacters)
    {
        output.Clear();
        bool anySpecial = _specialTokens.Length > 0;
        int i = from;
        while (i < text.Length)
        {
            if (output.CharacterCount >= maxCharacters && !output.HasOpenWord) return i;
            char c = text[i];
            if (c < 0x80)
            {
                // ASCII fast path: no accents, one-to-one case mapping, and runs of letters and digits
                // copied in one go.
                switch (AsciiClass[c])
                {
                    case AsciiWord:
                        int run = i + 1;
                        while (run < text.Length && text[run] < 0x80 && AsciiClass[text[run]] == AsciiWord) run++;
                        output.AppendAscii(text[i..run], i, _lowercase);
                        i = run;
                        continue;
                    case AsciiSpace:
                        output.EndWord();
                        break;
                    case AsciiPunctuation:
                        if (c == '[' && anySpecial && TryMatchSpecial(text, i, output, out int matched)) { i += matched; continue; }
                        output.EndWord();
                        output.Append(c, i, i + 1);
                        output.EndWord();
                        break;
                    default: // control characters are dropped
                        break;
                }
                i++;
                continue;
            }

            int start = i;
            int cp;
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                cp = char.ConvertToUtf32(c, text[i + 1]);
                i += 2;
            }
            else
            {
                cp = c; // a lone surrogate is category Cs and so dropped below
                i++;
            }
            if (BertCharacters.IsDropped(cp)) continue;
            if (BertCharacters.IsWhitespace(cp)) { output.EndWord(); continue; }

            string? transformed = cp < 0x10000 ? _bmpTransform[cp] : Transform(cp);
            bool cjk = BertCharacters.IsCjk(cp);
            if (cjk) output.EndWord();
            if (transformed is null)
                AppendChars(text.Slice(start, i - start), start, i, output, cjk);
            else
                AppendChars(transformed, start, i, output, cjk);
            if (cjk) output.EndWord();
        }
        output.EndWord();
        return text.Length;
    }

    private static void AppendChars(ReadOnlySpan<char> chars, int start, int end, PreTokenizedText output, bool cjk)
    {
        for (int k = 0; k < chars.Length; k++)
        {
            char ch = chars[k];
            int cp = ch;
            bool pair = char.IsHighSurrogate(ch) && k + 1 < chars.Length && char.IsLowSurrogate(chars[k + 1]);
            if (pair) cp = char.ConvertToUtf32(ch, chars[k + 1]);
            if (!cjk && BertCharacters.IsPunctuation(cp))
            {
                output.EndWord();
                output.Append(ch, start, end);
                if (pair) output.Append(chars[++k], start, end);
                output.EndWord();
                continue;
            }
            output.Append(ch, start, end);
            if (pair) output.Append(chars[++k], start, end);
        }
    }

    private bool TryMatchSpecial(ReadOnlySpan<char> text, int at, PreTokenizedText output, out int length)
    {
        foreach (var (token, id) in _specialTokens)
        {
            if (text.Slice(at).StartsWith(token, StringComparison.Ordinal))
            {
                output.AddSpecialToken(id, at, at + token.Length);
                length = token.Length;
                return true;
            }
        }
        length = 0;
        return false;
    }

    private string? Transform(int cp) => TransformTables.Transform(cp, _lowercase, _stripAccents);

    /// <summary>The lowercase and accent-stripping result of each code point, computed once per mode.</summary>
    private static class TransformTables
    {
        private static readonly Lazy<string?[]>[] Tables =
        [
            new(() => Build(false, false)), new(() => Build(false, true)),
            new(() => Build(true, false)), new(() => Build(true, true)),
        ];

        public static string?[] For(bool lowercase, bool stripAccents) => Tables[(lowercase ? 2 : 0) + (stripAccents ? 1 : 0)].Value;

        private static string?[] Build(bool lowercase, bool stripAccents)
        {
            var table = new string?[0x10000];
            if (!lowercase && !stripAccents) return table;
            for (int cp = 0x80; cp < 0x10000; cp++)
            {
                if (cp is >= 0xD800 and <= 0xDFFF) continue;
                table[cp] = Transform(cp, lowercase, stripAccents);
            }
            return table;
        }

        /// <summary>Null when the code point maps to itself.</summary>
        public static string? Transform(int cp, bool lowercase, bool stripAccents)
        {
            if (BertCharacters.IsDropped(cp) || BertCharacters.IsWhitespace(cp)) return null;
            var rune = new Rune(cp);
            string original = rune.ToString();
            string result = original;
            if (lowercase)
                result = cp == 0x130 ? "i\u0307" : Rune.ToLowerInvariant(rune).ToString();
            if (stripAccents)
            {
                string decomposed = result.Normalize(NormalizationForm.FormD);
                var kept = new StringBuilder(decomposed.Length);
                foreach (Rune r in decomposed.EnumerateRunes())
                    if (Rune.GetUnicodeCategory(r) != System.Globalization.UnicodeCategory.NonSpacingMark) kept.Append(r.ToString());
                result = kept.ToString();
            }
            return result == original ? null : result;
        }
    }
}
