namespace SharpLM.Data.Cleaning;

/// <summary>
/// One quality rule that <c>sharplm data clean</c> can apply: its id (as <c>--filters</c> and the report
/// name it), its family (<c>gopher</c>: Rae et al. 2021, MassiveText's quality and repetition filters;
/// <c>c4</c>: Raffel et al. 2020, the C4 cleaning rules), what it removes, and whether it removes whole
/// documents or single lines.
/// </summary>
/// <param name="Id">The rule's name, such as <c>gopher.word-count</c>.</param>
/// <param name="Family">gopher or c4.</param>
/// <param name="Description">What it removes, with its threshold.</param>
/// <param name="RemovesLines">True when the rule removes lines and leaves the rest of the document.</param>
/// <param name="EnglishOnly">True when the rule only makes sense for English (skipped for other languages).</param>
public sealed record QualityRule(string Id, string Family, string Description, bool RemovesLines = false, bool EnglishOnly = false)
{
    /// <summary>Every rule, in the order they are applied: a document is counted under the first rule that removes it.</summary>
    public static IReadOnlyList<QualityRule> All { get; } =
    [
        new("gopher.word-count", "gopher", "fewer words than --min-words (default 50) or more than 100,000"),
        new("gopher.mean-word-length", "gopher", "mean word length outside 3 to 10 characters", EnglishOnly: true),
        new("gopher.symbol-ratio", "gopher", "more than 0.1 hash signs or ellipses per word"),
        new("gopher.bullet-lines", "gopher", "more than 90% of lines start with a bullet"),
        new("gopher.ellipsis-lines", "gopher", "more than 30% of lines end with an ellipsis"),
        new("gopher.alphabetic-words", "gopher", "fewer than 80% of words hold a letter"),
        new("gopher.stop-words", "gopher", "fewer than 2 of the stop words the, be, to, of, and, that, have, with", EnglishOnly: true),
        new("gopher.repeated-lines", "gopher", "more than 30% of lines repeat an earlier line, or repeated lines hold more than 20% of the characters"),
        new("gopher.repeated-paragraphs", "gopher", "more than 30% of paragraphs repeat an earlier one, or they hold more than 20% of the characters"),
        new("gopher.top-ngram", "gopher", "the most frequent 2-, 3- or 4-gram covers more than 20%, 18% or 16% of the characters"),
        new("gopher.repeated-ngrams", "gopher", "repeated 5- to 10-grams cover more than 15% down to 10% of the characters"),
        new("c4.lorem-ipsum", "c4", "the document contains \"lorem ipsum\""),
        new("c4.curly-bracket", "c4", "the document contains a curly bracket (code)"),
        new("c4.javascript-lines", "c4", "lines that mention javascript", RemovesLines: true),
        new("c4.policy-lines", "c4", "lines about terms of use, privacy or cookie policies, or the use of cookies", RemovesLines: true),
        new("c4.short-lines", "c4", "lines of fewer than 3 words", RemovesLines: true),
        new("c4.line-punctuation", "c4", "lines that do not end in terminal punctuation (. ! ? or a closing quote after one)", RemovesLines: true),
        new("c4.min-sentences", "c4", "fewer than 5 sentences left after the line rules"),
    ];

    /// <summary>
    /// The rules a <c>--filters</c> value selects: a comma-separated list of families (<c>gopher</c>, <c>c4</c>)
    /// and rule ids, each optionally prefixed with <c>-</c> to remove it again; <c>none</c> selects nothing.
    /// </summary>
    /// <exception cref="InvalidInputException">A name is neither a family nor a rule.</exception>
    public static IReadOnlyList<QualityRule> Select(string filters)
    {
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string item in filters.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item == "none") continue;
            bool remove = item.StartsWith('-');
            string name = remove ? item[1..] : item;
            var matches = All.Where(r => r.Family == name || r.Id == name).Select(r => r.Id).ToList();
            if (matches.Count == 0)
                throw new InvalidInputException($"--filters {filters}: \"{name}\" is neither gopher, c4, none nor a rule ({string.Join(", ", All.Select(r => r.Id))}).");
            if (remove) chosen.ExceptWith(matches);
            else chosen.UnionWith(matches);
        }
        return All.Where(r => chosen.Contains(r.Id)).ToList();
    }
}
