using System.Text;
using System.Text.RegularExpressions;

namespace SharpLM.Tasks.QuestionAnswering;

/// <summary>
/// Exact match and F1 of predicted answers as the official SQuAD evaluation scripts compute them (in
/// percent): answers are lowercased, stripped of ASCII punctuation and of the articles a, an, the, and
/// split on whitespace; each question scores its best gold answer. An impossible question's only gold
/// answer is the empty string, so it scores 100 exactly when the prediction is empty. As the SQuAD 2.0
/// script does, the scores are also given over the answerable questions alone (HasAns) and the
/// impossible ones alone (NoAns), null where a set has none; and, for SQuAD 2.0, the best F1 over all
/// no-answer thresholds with that threshold.
/// </summary>
public sealed partial record SquadMetrics(double ExactMatch, double F1, int Questions,
    double? HasAnswerExactMatch = null, double? HasAnswerF1 = null, double? NoAnswerExactMatch = null,
    double? BestF1 = null, double? BestF1Threshold = null)
{
    /// <summary>
    /// The no-answer threshold (on the null score's margin over the best span) that gives the highest F1
    /// on <paramref name="questions"/>, and that F1: the official SQuAD 2.0 script's best_f1 and
    /// best_f1_thresh, with score margins in place of no-answer probabilities.
    /// </summary>
    public static (double BestF1, double Threshold) BestNullThreshold(IReadOnlyList<SquadQuestion> questions, IReadOnlyList<SpanCandidate> candidates)
    {
        // Start with every question answered (threshold above every margin), then let the questions with
        // the largest margins fall to no answer one by one, keeping the best total.
        var order = Enumerable.Range(0, questions.Count).OrderByDescending(i => candidates[i].NullScoreDifference).ToList();
        double F1Of(int i, string predicted) => questions[i].Answers.Count > 0 ? questions[i].Answers.Max(a => SquadMetrics.F1Of(predicted, a.Text)) : SquadMetrics.F1Of(predicted, "");
        double total = Enumerable.Range(0, questions.Count).Sum(i => F1Of(i, candidates[i].Span.Text));
        double best = total, threshold = candidates.Select(c => c.NullScoreDifference).Where(double.IsFinite).DefaultIfEmpty(0).Max();
        for (int n = 0; n < order.Count; n++)
        {
            int i = order[n];
            total += F1Of(i, "") - F1Of(i, candidates[i].Span.Text);
            // Null for every margin above the next one: the threshold sits at the next margin.
            double next = n + 1 < order.Count ? candidates[order[n + 1]].NullScoreDifference : double.NegativeInfinity;
            if (total > best && next < candidates[i].NullScoreDifference)
            {
                best = total;
                threshold = double.IsFinite(next) ? next : candidates[i].NullScoreDifference - 1;
            }
        }
        return (100 * best / questions.Count, threshold);
    }

    /// <summary>Scores <paramref name="predictions"/> (question id -> answer text, empty for no answer) against <paramref name="questions"/>.</summary>
    public static SquadMetrics Of(IReadOnlyList<SquadQuestion> questions, IReadOnlyDictionary<string, string> predictions)
    {
        if (questions.Count == 0) return new SquadMetrics(0, 0, 0);
        var scores = questions.Select(question =>
        {
            string predicted = predictions.GetValueOrDefault(question.Id, "");
            var golds = question.Answers.Count > 0 ? question.Answers.Select(a => a.Text).ToList() : [""];
            return (HasAnswer: question.Answers.Count > 0, Exact: golds.Max(g => ExactMatchOf(predicted, g)), F1: golds.Max(g => F1Of(predicted, g)));
        }).ToList();
        var answerable = scores.Where(s => s.HasAnswer).ToList();
        var impossible = scores.Where(s => !s.HasAnswer).ToList();
        return new SquadMetrics(100 * scores.Average(s => s.Exact), 100 * scores.Average(s => s.F1), questions.Count,
            answerable.Count > 0 ? 100 * answerable.Average(s => s.Exact) : null,
            answerable.Count > 0 ? 100 * answerable.Average(s => s.F1) : null,
            impossible.Count > 0 ? 100 * impossible.Average(s => s.Exact) : null);
    }

    /// <summary>The official normalisation: lowercase, no ASCII punctuation, no articles, single spaces.</summary>
    public static string Normalize(string answer)
    {
        var text = new StringBuilder(answer.Length);
        foreach (char c in answer.ToLowerInvariant())
            if (!(char.IsAscii(c) && char.IsPunctuation(c) || c is '$' or '+' or '<' or '=' or '>' or '^' or '`' or '|' or '~')) text.Append(c);
        string noArticles = Articles().Replace(text.ToString(), " ");
        return string.Join(' ', noArticles.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>1 when the normalised answers are equal, else 0.</summary>
    public static double ExactMatchOf(string predicted, string gold) => Normalize(predicted) == Normalize(gold) ? 1 : 0;

    /// <summary>Token-overlap F1 of the normalised answers; when either is empty, 1 if both are, else 0.</summary>
    public static double F1Of(string predicted, string gold)
    {
        var p = Normalize(predicted).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var g = Normalize(gold).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (p.Length == 0 || g.Length == 0) return p.Length == g.Length ? 1 : 0;
        var goldCounts = g.GroupBy(t => t).ToDictionary(t => t.Key, t => t.Count());
        int common = 0;
        foreach (string token in p)
            if (goldCounts.TryGetValue(token, out int left) && left > 0) { common++; goldCounts[token] = left - 1; }
        if (common == 0) return 0;
        double precision = (double)common / p.Length, recall = (double)common / g.Length;
        return 2 * precision * recall / (precision + recall);
    }

    [GeneratedRegex(@"\b(a|an|the)\b")]
    private static partial Regex Articles();
}
