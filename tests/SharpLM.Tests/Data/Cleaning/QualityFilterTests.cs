using SharpLM.Data.Cleaning;

namespace SharpLM.Tests.Data.Cleaning;

public class QualityFilterTests
{
    /// <summary>A real page of State of the Union text: twelve sentences, which every rule keeps.</summary>
    private static readonly Lazy<string> Page = new(() => CorpusCleanerTests.Pages()[40]);

    private static QualityVerdict Only(string rule, string text, int minWords = 50, CleaningLanguage language = CleaningLanguage.English) =>
        new QualityFilter(QualityRule.Select(rule), minWords, language).Apply(text);

    private static string Words(string text, int count) => string.Join(' ', text.Split(' ').Take(count));

    [Fact]
    public void A_real_page_passes_every_rule()
    {
        var verdict = new QualityFilter(QualityRule.All, 50, CleaningLanguage.English).Apply(Page.Value);
        Assert.Null(verdict.Removed);
        Assert.Equal(Page.Value, verdict.Text);
        Assert.Null(verdict.LinesRemoved);
    }

    public static TheoryData<string, string> Failing => new()
    {
        // rule, a document that breaks it (built from the real page)
        { "gopher.word-count", Words(Page.Value, 30) + "." },
        { "gopher.mean-word-length", string.Join(' ', Page.Value.Split(' ').Select(w => w.Length > 3 ? w + "ationalisation" : w)) },
        { "gopher.symbol-ratio", string.Join(' ', Page.Value.Split(' ').Select((w, i) => i % 5 == 0 ? "#" + w : w)) },
        { "gopher.bullet-lines", string.Join('\n', Page.Value.Split(". ").Select(s => "• " + s + ".")) },
        { "gopher.ellipsis-lines", string.Join('\n', Page.Value.Split(". ").Select((s, i) => i % 2 == 0 ? s + "..." : s + ".")) },
        { "gopher.alphabetic-words", string.Join(' ', Page.Value.Split(' ').Select((w, i) => i % 3 == 0 ? $"{w} 1961 $4.2" : w)) },
        { "gopher.stop-words", string.Join(' ', Page.Value.Split(' ').Where(w => !new[] { "the", "be", "to", "of", "and", "that", "have", "with" }.Contains(w.ToLowerInvariant().Trim(',', '.')))) },
        { "gopher.repeated-lines", string.Join('\n', Page.Value.Split(". ").Take(4).Concat(Enumerable.Repeat("Thank you very much for coming tonight.", 4))) },
        { "gopher.repeated-paragraphs", string.Join("\n\n", new[] { Words(Page.Value, 40), Words(Page.Value, 40), Page.Value.Split(". ")[5] }) },
        { "gopher.top-ngram", Page.Value + " " + string.Concat(Enumerable.Repeat("the United States ", 60)) },
        { "gopher.repeated-ngrams", Page.Value + " " + Words(Page.Value, 120) },
        { "c4.lorem-ipsum", Page.Value + " Lorem ipsum dolor sit amet." },
        { "c4.curly-bracket", Page.Value + " function f() { return 1; }" },
        { "c4.min-sentences", string.Join(' ', Page.Value.Split(". ").Take(4)) + "." },
    };

    [Theory]
    [MemberData(nameof(Failing))]
    public void Each_rule_removes_the_document_made_to_break_it_and_keeps_the_real_page(string rule, string broken)
    {
        Assert.Null(Only(rule, Page.Value).Removed);
        Assert.Equal(rule, Only(rule, broken).Removed?.Id);
    }

    [Fact]
    public void The_C4_line_rules_cut_lines_and_keep_the_rest()
    {
        string[] sentences = Page.Value.Split(". ").Select(s => s.TrimEnd('.') + ".").ToArray();
        string text = string.Join('\n', new[]
        {
            sentences[0], "Please enable JavaScript to view this page.", sentences[1], "Read our privacy policy before you subscribe.",
            sentences[2], "Share this", sentences[3], "Posted by the White House press office on Tuesday", sentences[4], sentences[5],
        });
        var verdict = new QualityFilter(QualityRule.Select("c4"), 50, CleaningLanguage.English).Apply(text);
        Assert.Null(verdict.Removed);
        Assert.Equal(string.Join('\n', sentences[..6]), verdict.Text);
        var removed = QualityRule.All.Select((r, i) => (r.Id, Count: verdict.LinesRemoved![i])).Where(p => p.Count > 0).ToList();
        Assert.Equal([("c4.javascript-lines", 1), ("c4.policy-lines", 1), ("c4.short-lines", 1), ("c4.line-punctuation", 1)], removed);
    }

    [Fact]
    public void Chinese_counts_characters_as_words_and_skips_the_English_only_rules()
    {
        // Five Tang poems: no spaces and no English stop words; each Han character is a word.
        string poems = string.Join('\n', File.ReadAllText(TestData.TangPath).Split("\n\n").Skip(10).Take(5).Select(p => string.Join("", p.Split('\n').Skip(1))));
        var filter = new QualityFilter(QualityRule.All, 50, CleaningLanguage.Chinese);
        Assert.DoesNotContain(filter.Rules, r => r.EnglishOnly);
        var verdict = filter.Apply(poems);
        Assert.Null(verdict.Removed);
        Assert.Equal("gopher.word-count", new QualityFilter(QualityRule.All, 50, CleaningLanguage.English).Apply(poems).Removed?.Id);
    }

    [Fact]
    public void Filters_select_families_and_rules_and_leave_out_what_is_prefixed_with_a_minus()
    {
        Assert.Equal(QualityRule.All, QualityRule.Select("gopher,c4"));
        Assert.Empty(QualityRule.Select("none"));
        var chosen = QualityRule.Select("gopher,-gopher.stop-words,c4.lorem-ipsum");
        Assert.Equal(QualityRule.All.Count(r => r.Family == "gopher") - 1 + 1, chosen.Count);
        Assert.DoesNotContain(chosen, r => r.Id == "gopher.stop-words");
        var error = Assert.Throws<InvalidInputException>(() => QualityRule.Select("gopher,c5"));
        Assert.StartsWith("--filters gopher,c5: \"c5\" is neither gopher, c4, none nor a rule", error.Message);
    }
}
