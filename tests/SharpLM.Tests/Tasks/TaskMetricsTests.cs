using SharpLM.Tasks.Classification;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.TokenClassification;

namespace SharpLM.Tests.Tasks;

public class TaskMetricsTests
{
    [Fact]
    public void Accuracy_and_macro_F1_match_a_hand_computed_case()
    {
        // a: TP 1, gold 2, predicted 2 -> F1 1/2; b: TP 1, gold 1, predicted 2 -> 2/3; c: TP 0 -> 0.
        var metrics = ClassificationMetrics.Of(["a", "a", "b", "c"], ["a", "b", "b", "a"]);
        Assert.Equal(0.5, metrics.Accuracy);
        Assert.Equal((0.5 + 2.0 / 3 + 0) / 3, metrics.MacroF1, 12);
    }

    [Fact]
    public void Entities_follow_seqeval_lenient_rules_for_BIO_and_BIOES()
    {
        Assert.Equal([new("PER", 0, 1), new("LOC", 3, 3)], EntitySpan.In(["B-PER", "I-PER", "O", "B-LOC"]));
        Assert.Equal([new EntitySpan("PER", 0, 1)], EntitySpan.In(["I-PER", "I-PER", "O"]));            // I- after O starts one
        Assert.Equal([new("PER", 0, 0), new("LOC", 1, 1)], EntitySpan.In(["B-PER", "I-LOC"]));          // a change of type ends one
        Assert.Equal([new("PER", 0, 0), new("LOC", 1, 3)], EntitySpan.In(["S-PER", "B-LOC", "I-LOC", "E-LOC"]));
        Assert.Equal([new("平", 0, 0), new("平", 1, 1), new("仄", 2, 2)], EntitySpan.In(["平", "平", "仄", "O"])); // plain tags: one word each
    }

    [Fact]
    public void Entity_precision_recall_F1_match_seqevals_documented_example()
    {
        // seqeval's README example: one of two gold entities found exactly, one of two predictions right.
        string[][] gold = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
        string[][] predicted = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]];
        var metrics = EntityMetrics.Of(gold, predicted);
        Assert.Equal(0.5, metrics.Precision);
        Assert.Equal(0.5, metrics.Recall);
        Assert.Equal(0.5, metrics.F1);
        Assert.Equal(8.0 / 10, metrics.TokenAccuracy);
    }

    [Fact]
    public void SQuAD_normalisation_exact_match_and_F1_follow_the_official_script()
    {
        Assert.Equal("cats hat", SquadMetrics.Normalize("The  Cat's, hat!"));
        Assert.Equal("1 000", SquadMetrics.Normalize("$1 000"));
        Assert.Equal(1, SquadMetrics.ExactMatchOf("the Eiffel Tower.", "Eiffel tower"));
        // Prediction {cat, sat}, gold {cat, sat, down}: precision 1, recall 2/3.
        Assert.Equal(0.8, SquadMetrics.F1Of("the cat sat", "a cat sat down"), 12);
        Assert.Equal(0, SquadMetrics.F1Of("", "cat"));
        var questions = new List<SquadQuestion>
        {
            new("1", "q", "a cat sat down", [new SquadAnswer("cat sat down", 2), new SquadAnswer("cat", 2)], false),
            new("2", "q", "nothing here", [], true),
        };
        var scored = SquadMetrics.Of(questions, new Dictionary<string, string> { ["1"] = "cat", ["2"] = "" });
        Assert.Equal(100, scored.ExactMatch);
        Assert.Equal(100, scored.F1);
        var wrong = SquadMetrics.Of(questions, new Dictionary<string, string> { ["1"] = "the cat sat", ["2"] = "here" });
        Assert.Equal(0, wrong.ExactMatch);
        Assert.Equal(100 * (0.8 + 0) / 2, wrong.F1, 9);
        Assert.Equal(80, wrong.HasAnswerF1!.Value, 9);
        Assert.Equal(0, wrong.NoAnswerExactMatch);
        Assert.Null(SquadMetrics.Of(questions[..1], new Dictionary<string, string> { ["1"] = "cat" }).NoAnswerExactMatch);
    }

    [Fact]
    public void The_best_no_answer_threshold_maximises_F1_and_gives_that_F1_when_applied()
    {
        SquadQuestion Q(string id, params string[] answers) => new(id, "q", "cat dog fish bird", answers.Select(a => new SquadAnswer(a, 0)).ToList(), answers.Length == 0);
        SpanCandidate C(string text, double margin) => new(new PredictedAnswer(text, 0, text.Length, 0.5), margin);
        var questions = new List<SquadQuestion> { Q("1", "cat"), Q("2"), Q("3", "bird") };
        var candidates = new List<SpanCandidate> { C("cat", -1), C("dog", 2), C("fish", 0.5) };
        // All answered: F1 1 + 0 + 0; the impossible one (margin 2) to no answer: 1 + 1 + 0, the best.
        var (bestF1, threshold) = SquadMetrics.BestNullThreshold(questions, candidates);
        Assert.Equal(200.0 / 3, bestF1, 9);
        var search = new AnswerSpanSearch(AllowNoAnswer: true, NullThreshold: threshold);
        var decided = candidates.Select((c, i) => (questions[i].Id, search.Decide(c).Text)).ToDictionary(p => p.Id, p => p.Text);
        Assert.Equal(bestF1, SquadMetrics.Of(questions, decided).F1, 9);
        Assert.Equal("", decided["2"]);
        Assert.Equal("fish", decided["3"]);
    }
}
