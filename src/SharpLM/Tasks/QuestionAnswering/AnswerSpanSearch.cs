namespace SharpLM.Tasks.QuestionAnswering;

/// <summary>A predicted answer: its text, character offsets in the context, and probability; empty text means no answer.</summary>
public sealed record PredictedAnswer(string Text, int Start, int End, double Score);

/// <summary>
/// The best span of a question before the no-answer decision, and how much the null score beats it
/// (null score minus span score; positive infinity when no valid span exists).
/// </summary>
public sealed record SpanCandidate(PredictedAnswer Span, double NullScoreDifference);

/// <summary>
/// Picks the answer of a question from the start and end logits of all its windows, as Hugging Face's
/// and Google's SQuAD post-processing do: the <see cref="NBest"/> highest start and end positions of
/// each window form candidate spans that lie inside the context, end at or after their start and are at
/// most <see cref="MaxAnswerLength"/> tokens long; the best sum of logits wins. With
/// <see cref="AllowNoAnswer"/> (SQuAD 2.0), the answer is empty when the null score (start and end on
/// [CLS], lowest over the windows) beats the best span by more than <see cref="NullThreshold"/>.
/// </summary>
public sealed record AnswerSpanSearch(int NBest = 20, int MaxAnswerLength = 30, bool AllowNoAnswer = false, double NullThreshold = 0.0)
{
    /// <summary>The answer to <paramref name="question"/> from its windows and their logits (one array per window, as long as its tokens).</summary>
    public PredictedAnswer Best(SquadQuestion question, IReadOnlyList<QuestionWindow> windows,
        IReadOnlyList<float[]> startLogits, IReadOnlyList<float[]> endLogits) =>
        Decide(Candidate(question, windows, startLogits, endLogits));

    /// <summary>The answer a candidate gives: its span, or no answer when none exists or (with <see cref="AllowNoAnswer"/>) the null score wins by more than the threshold.</summary>
    public PredictedAnswer Decide(SpanCandidate candidate) =>
        candidate.Span.Text.Length == 0 || (AllowNoAnswer && candidate.NullScoreDifference > NullThreshold)
            ? new PredictedAnswer("", 0, 0, candidate.Span.Text.Length == 0 ? 1 : 1 - candidate.Span.Score)
            : candidate.Span;

    /// <summary>The best span of <paramref name="question"/> over all its windows, and the null score's margin over it.</summary>
    public SpanCandidate Candidate(SquadQuestion question, IReadOnlyList<QuestionWindow> windows,
        IReadOnlyList<float[]> startLogits, IReadOnlyList<float[]> endLogits)
    {
        double bestScore = double.NegativeInfinity, nullScore = double.PositiveInfinity;
        PredictedAnswer? best = null;
        for (int w = 0; w < windows.Count; w++)
        {
            var window = windows[w];
            float[] start = startLogits[w], end = endLogits[w];
            nullScore = Math.Min(nullScore, start[0] + end[0]);
            // Probabilities of a span within its window, for the score the user sees (Hugging Face's pipeline does the same).
            double startNorm = LogSumExp(start), endNorm = LogSumExp(end);
            foreach (int s in TopPositions(start))
            foreach (int e in TopPositions(end))
            {
                if (!window.IsContext(s) || !window.IsContext(e) || e < s || e - s + 1 > MaxAnswerLength) continue;
                double score = start[s] + end[e];
                if (score <= bestScore) continue;
                bestScore = score;
                int from = window.ContextOffsets[s - window.ContextStart].Start, to = window.ContextOffsets[e - window.ContextStart].End;
                best = new PredictedAnswer(question.Context[from..to], from, to, Math.Exp(start[s] - startNorm + end[e] - endNorm));
            }
        }
        return best is null
            ? new SpanCandidate(new PredictedAnswer("", 0, 0, 0), double.PositiveInfinity)
            : new SpanCandidate(best, nullScore - bestScore);
    }

    private IEnumerable<int> TopPositions(float[] logits) =>
        Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(NBest);

    private static double LogSumExp(float[] values)
    {
        double max = values.Max();
        return max + Math.Log(values.Sum(v => Math.Exp(v - max)));
    }
}
