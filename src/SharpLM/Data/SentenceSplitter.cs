namespace SharpLM.Data;

/// <summary>
/// Splits a paragraph into sentences, for corpora that are not already one sentence per line.
/// English: after '.', '?' or '!' (and any closing quotes or brackets) followed by whitespace and an
/// upper-case letter, digit or opening quote, unless the word before the '.' is a known abbreviation
/// ("Mr.", "Dr.", "U.S.") or a single letter (an initial). Chinese: after '。', '！', '？' or '；' (and
/// any closing quotes), whatever follows.
/// </summary>
public static class SentenceSplitter
{
    private static readonly HashSet<string> Abbreviations = new(StringComparer.OrdinalIgnoreCase)
    {
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "gen", "gov", "sen", "rep", "rev", "hon", "pres",
        "vs", "etc", "e.g", "i.e", "no", "vol", "fig", "inc", "ltd", "co", "corp", "jan", "feb", "mar", "apr",
        "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k", "u.n", "a.m", "p.m",
    };

    private static bool IsClosing(char c) => c is '"' or '\'' or ')' or ']' or '”' or '’' or '」' or '』' or '）';
    private static bool IsOpening(char c) => c is '"' or '\'' or '(' or '[' or '“' or '‘';

    /// <summary>The sentences of <paramref name="paragraph"/>, trimmed, empty ones dropped.</summary>
    public static IEnumerable<string> Split(string paragraph)
    {
        int start = 0;
        for (int i = 0; i < paragraph.Length; i++)
        {
            char c = paragraph[i];
            bool chinese = c is '。' or '！' or '？' or '；';
            if (!chinese && c is not ('.' or '?' or '!')) continue;
            int end = i + 1;
            while (end < paragraph.Length && (IsClosing(paragraph[end]) || paragraph[end] is '.' or '?' or '!' or '。' or '！' or '？')) end++;
            if (!chinese)
            {
                int next = end;
                while (next < paragraph.Length && char.IsWhiteSpace(paragraph[next])) next++;
                if (next == end || next >= paragraph.Length) continue; // no space after, or the end: the paragraph end closes it
                char following = paragraph[next];
                if (!(char.IsUpper(following) || char.IsDigit(following) || IsOpening(following))) continue;
                if (c == '.' && IsAbbreviation(paragraph, i)) continue;
            }
            string sentence = paragraph[start..end].Trim();
            if (sentence.Length > 0) yield return sentence;
            start = end;
            i = end - 1;
        }
        string rest = paragraph[start..].Trim();
        if (rest.Length > 0) yield return rest;
    }

    private static bool IsAbbreviation(string text, int period)
    {
        int wordStart = period;
        while (wordStart > 0 && (char.IsLetter(text[wordStart - 1]) || text[wordStart - 1] == '.')) wordStart--;
        string word = text[wordStart..period];
        return word.Length == 1 && char.IsUpper(word[0]) || Abbreviations.Contains(word);
    }
}
