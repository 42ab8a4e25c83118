using System.Buffers;
using System.Collections.Frozen;

namespace SharpLM.Data.Cleaning;

/// <summary>What the quality rules decided about one document.</summary>
/// <param name="Removed">The first rule that removed the whole document, or null when it is kept.</param>
/// <param name="Text">The document as kept: the original, or what the line rules left of it.</param>
/// <param name="LinesRemoved">Lines removed by each rule (indexed as <see cref="QualityRule.All"/>), or null when none was.</param>
public readonly record struct QualityVerdict(QualityRule? Removed, string Text, int[]? LinesRemoved);

/// <summary>
/// Applies the chosen Gopher and C4 rules (<see cref="QualityRule.All"/>) to one document at a time,
/// with the thresholds of the papers as datatrove implements them. Safe to call from several threads:
/// each thread keeps its own buffers.
/// </summary>
public sealed class QualityFilter
{
    /// <summary>Gopher's maximum words in a document.</summary>
    public const int MaxWords = 100_000;

    private static readonly string[] StopWords = ["the", "be", "to", "of", "and", "that", "have", "with"];
    private static readonly string[] PolicyPhrases = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"];

    // Vectorised case-insensitive searches: a document is searched once, and its lines only when it holds a match.
    private static readonly SearchValues<string> LoremIpsum = SearchValues.Create(["lorem ipsum"], StringComparison.OrdinalIgnoreCase);
    private static readonly SearchValues<string> Javascript = SearchValues.Create(["javascript"], StringComparison.OrdinalIgnoreCase);
    private static readonly SearchValues<string> Policy = SearchValues.Create(PolicyPhrases, StringComparison.OrdinalIgnoreCase);
    private static readonly (int N, double MaxShare)[] TopNgrams = [(2, 0.20), (3, 0.18), (4, 0.16)];
    private static readonly (int N, double MaxShare)[] RepeatedNgrams = [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)];

    [ThreadStatic] private static DocumentWords? _words;
    [ThreadStatic] private static NgramTable? _table;
    [ThreadStatic] private static ulong[]? _prefix;

    private readonly bool[] _on;
    private readonly int _minWords;
    private readonly CleaningLanguage _language;

    /// <summary>A filter applying <paramref name="rules"/> (English-only rules are dropped for other languages).</summary>
    public QualityFilter(IEnumerable<QualityRule> rules, int minWords, CleaningLanguage language)
    {
        if (minWords < 0) throw new InvalidInputException($"--min-words {minWords}: must be 0 or more.");
        _on = new bool[QualityRule.All.Count];
        foreach (var rule in rules)
            if (language == CleaningLanguage.English || !rule.EnglishOnly) _on[Index(rule.Id)] = true;
        _minWords = minWords;
        _language = language;
    }

    /// <summary>The rules this filter applies.</summary>
    public IEnumerable<QualityRule> Rules => QualityRule.All.Where((_, i) => _on[i]);

    /// <summary>Decides about <paramref name="text"/>.</summary>
    public QualityVerdict Apply(string text)
    {
        var words = (_words ??= new DocumentWords()).Split(text, _language);
        var removed = Gopher(words);
        if (removed is not null) return new QualityVerdict(removed, text, null);
        return C4(text);
    }

    private bool On(string id) => _on[Index(id)];

    private static readonly FrozenDictionary<string, int> Indices =
        QualityRule.All.Select((r, i) => (r.Id, i)).ToFrozenDictionary(p => p.Id, p => p.i);

    private static int Index(string id) => Indices[id];

    private static QualityRule Rule(string id) => QualityRule.All[Index(id)];

    private QualityRule? Gopher(DocumentWords words)
    {
        string text = words.Text;
        int wordCount = 0, wordChars = 0, alphabetic = 0, stopWords = 0, symbols = 0;
        var starts = words.Starts;
        var lengths = words.Lengths;
        var ascii = DocumentWords.AsciiClasses;
        for (int i = 0; i < starts.Length; i++)
        {
            var word = text.AsSpan(starts[i], lengths[i]);
            bool hasLetter = false, onlySymbols = true, dot = false;
            foreach (char c in word)
            {
                if (c < 128)
                {
                    byte kind = ascii[c];
                    hasLetter |= (kind & DocumentWords.Letter) != 0;
                    onlySymbols &= (kind & DocumentWords.Symbol) != 0;
                    if (c == '#') symbols++;
                    dot |= c == '.';
                    continue;
                }
                hasLetter |= char.IsLetter(c);
                if (onlySymbols && !DocumentWords.IsPunctuationOrSymbol(c)) onlySymbols = false;
                if (c == '…') symbols++;
            }
            if (dot) symbols += word.Count("...");
            if (!onlySymbols) { wordCount++; wordChars += word.Length; }
            if (hasLetter) alphabetic++;
            if (IsStopWord(word)) stopWords++;
        }
        if (On("gopher.word-count") && (wordCount < _minWords || wordCount > MaxWords)) return Rule("gopher.word-count");
        if (On("gopher.mean-word-length") && wordCount > 0 && (wordChars / (double)wordCount is < 3 or > 10)) return Rule("gopher.mean-word-length");
        if (On("gopher.symbol-ratio") && words.Count > 0 && symbols / (double)words.Count > 0.1) return Rule("gopher.symbol-ratio");
        if (On("gopher.bullet-lines") || On("gopher.ellipsis-lines"))
        {
            int lines = 0, bullets = 0, ellipses = 0;
            foreach (var range in text.AsSpan().Split('\n'))
            {
                var line = text.AsSpan(range).Trim();
                if (line.IsEmpty) continue;
                lines++;
                if (line[0] is '•' or '‣' or '⁃' or '◦' or '●' or '○' or '■' or '□' or '▪' or '▫' or '-' or '*' or '–' or '·') bullets++;
                if (line.EndsWith("...") || line.EndsWith("…")) ellipses++;
            }
            if (On("gopher.bullet-lines") && lines > 0 && bullets / (double)lines > 0.9) return Rule("gopher.bullet-lines");
            if (On("gopher.ellipsis-lines") && lines > 0 && ellipses / (double)lines > 0.3) return Rule("gopher.ellipsis-lines");
        }
        if (On("gopher.alphabetic-words") && words.Count > 0 && alphabetic / (double)words.Count < 0.8) return Rule("gopher.alphabetic-words");
        if (On("gopher.stop-words") && stopWords < 2) return Rule("gopher.stop-words");
        if (On("gopher.repeated-lines") && Repeated(text, "\n", 0.3, 0.2)) return Rule("gopher.repeated-lines");
        if (On("gopher.repeated-paragraphs") && Repeated(text, "\n\n", 0.3, 0.2)) return Rule("gopher.repeated-paragraphs");
        if (On("gopher.top-ngram") && TopNgramTooFrequent(words)) return Rule("gopher.top-ngram");
        if (On("gopher.repeated-ngrams") && RepeatedNgramsTooMany(words)) return Rule("gopher.repeated-ngrams");
        return null;
    }

    private static bool IsStopWord(ReadOnlySpan<char> word)
    {
        // Most words are ruled out by length or first letter before any comparison.
        if (word.Length is < 2 or > 6) return false;
        word = word.Trim(".,;:!?\"'()[]");
        if (word.Length is < 2 or > 4 || (word[0] | 0x20) is not ('t' or 'b' or 'o' or 'a' or 'h' or 'w')) return false;
        foreach (string stop in StopWords)
            if (word.Equals(stop, StringComparison.OrdinalIgnoreCase)) return true;
        return false;
    }

    /// <summary>Gopher's repetition of whole lines or paragraphs: the share repeating an earlier one, by count and by characters.</summary>
    private static bool Repeated(string text, string separator, double maxShare, double maxCharShare)
    {
        var seen = new HashSet<ulong>();
        int parts = 0, repeated = 0, repeatedChars = 0;
        foreach (string part in text.Split(separator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            parts++;
            if (!seen.Add(DocumentWords.HashOf(part))) { repeated++; repeatedChars += part.Length; }
        }
        return parts > 0 && (repeated / (double)parts > maxShare || repeatedChars / (double)text.Length > maxCharShare);
    }

    /// <summary>Gopher's top n-gram rule: the characters of the most frequent n-gram, times its count, over the text's characters.</summary>
    private static bool TopNgramTooFrequent(DocumentWords words)
    {
        var table = _table ??= new NgramTable();
        var prefix = Prefix(words);
        foreach (var (n, maxShare) in TopNgrams)
        {
            if (words.Count < n) continue;
            table.Start(words.Count);
            int topCount = 0, topStart = 0;
            for (int i = 0; i + n <= words.Count; i++)
            {
                int count = table.Increment(NgramHash(prefix, i, n));
                if (count > topCount) (topCount, topStart) = (count, i);
            }
            if (topCount < 2) continue;
            int chars = n - 1; // the spaces between the n words
            for (int k = 0; k < n; k++) chars += words.Length(topStart + k);
            if (chars * (double)topCount / words.Text.Length > maxShare) return true;
        }
        return false;
    }

    /// <summary>Gopher's duplicate n-gram rule: characters of words inside n-grams that occur again, counted without overlap, over the text's characters.</summary>
    private static bool RepeatedNgramsTooMany(DocumentWords words)
    {
        var table = _table ??= new NgramTable();
        var prefix = Prefix(words);
        foreach (var (n, maxShare) in RepeatedNgrams)
        {
            if (words.Count < n) continue;
            table.Start(words.Count);
            long repeatedChars = 0;
            int i = 0;
            while (i + n <= words.Count)
            {
                if (table.Increment(NgramHash(prefix, i, n)) == 1) { i++; continue; }
                for (int k = 0; k < n; k++) repeatedChars += words.Length(i + k);
                i += n;
            }
            if (repeatedChars / (double)words.Text.Length > maxShare) return true;
        }
        return false;
    }

    private const ulong Base = 0x9E3779B97F4A7C15UL;

    /// <summary>
    /// Prefix sums of a polynomial hash over the word hashes (modulo 2^64), so that any n-gram's hash
    /// costs two multiplications whatever n is.
    /// </summary>
    private static ulong[] Prefix(DocumentWords words)
    {
        if (_prefix is null || _prefix.Length < words.Count + 1) _prefix = new ulong[Math.Max(1024, 2 * (words.Count + 1))];
        var prefix = _prefix;
        prefix[0] = 0;
        for (int i = 0; i < words.Count; i++) prefix[i + 1] = prefix[i] * Base + words.Hash(i);
        return prefix;
    }

    private static readonly ulong[] Powers = Enumerable.Range(0, 33).Select(n => Enumerable.Repeat(Base, n).Aggregate(1UL, (p, b) => p * b)).ToArray();

    private static ulong NgramHash(ulong[] prefix, int start, int n) =>
        DocumentWords.Mix(prefix[start + n] - prefix[start] * Powers[n] + (ulong)n);

    private QualityVerdict C4(string text)
    {
        if (On("c4.lorem-ipsum") && text.AsSpan().ContainsAny(LoremIpsum)) return new(Rule("c4.lorem-ipsum"), text, null);
        if (On("c4.curly-bracket") && text.Contains('{')) return new(Rule("c4.curly-bracket"), text, null);
        bool lineRules = On("c4.javascript-lines") || On("c4.policy-lines") || On("c4.short-lines") || On("c4.line-punctuation");
        int[]? removed = null;
        if (lineRules)
        {
            bool javascript = On("c4.javascript-lines") && text.AsSpan().ContainsAny(Javascript);
            bool policy = On("c4.policy-lines") && text.AsSpan().ContainsAny(Policy);
            var kept = new System.Text.StringBuilder(text.Length);
            foreach (var range in text.AsSpan().Split('\n'))
            {
                var line = text.AsSpan(range).Trim();
                if (line.IsEmpty) continue;
                string? rule = LineRule(line, javascript, policy);
                if (rule is not null)
                {
                    removed ??= new int[QualityRule.All.Count];
                    removed[Index(rule)]++;
                    continue;
                }
                if (kept.Length > 0) kept.Append('\n');
                kept.Append(line);
            }
            if (removed is not null) text = kept.ToString();
        }
        if (On("c4.min-sentences") && Sentences(text, 5) < 5) return new(Rule("c4.min-sentences"), text, removed);
        return new(null, text, removed);
    }

    private string? LineRule(ReadOnlySpan<char> line, bool javascript, bool policy)
    {
        if (javascript && line.ContainsAny(Javascript)) return "c4.javascript-lines";
        if (policy && line.ContainsAny(Policy)) return "c4.policy-lines";
        if (On("c4.short-lines") && LineWords(line) < 3) return "c4.short-lines";
        if (On("c4.line-punctuation") && !EndsInTerminalPunctuation(line)) return "c4.line-punctuation";
        return null;
    }

    private int LineWords(ReadOnlySpan<char> line)
    {
        int words = 0;
        bool inWord = false;
        foreach (char c in line)
        {
            bool han = _language == CleaningLanguage.Chinese && DocumentWords.IsHan(c);
            if (han) words++;
            if (char.IsWhiteSpace(c) || han) inWord = false;
            else if (!inWord) { inWord = true; words++; }
        }
        return words;
    }

    private static bool EndsInTerminalPunctuation(ReadOnlySpan<char> line) =>
        line[^1] is '.' or '!' or '?' or '"' or '\'' or '”' or '’' or '。' or '！' or '？' or '」' or '』';

    /// <summary>Sentences in the text, counted up to <paramref name="enough"/> (the rule needs no more).</summary>
    private static int Sentences(string text, int enough)
    {
        int sentences = 0;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            sentences += SentenceSplitter.Split(text[range]).Take(enough - sentences).Count();
            if (sentences >= enough) break;
        }
        return sentences;
    }
}
