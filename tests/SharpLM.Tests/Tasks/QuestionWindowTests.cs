using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Text;

namespace SharpLM.Tests.Tasks;

public class QuestionWindowTests
{
    private static readonly BertTokenizer Tokenizer = BertTokenizer.Load(TestData.BertBaseUncasedVocab);

    // Real text: consecutive paragraphs of the 1961-2018 State of the Union addresses, far longer than a window.
    private static string LongContext() => string.Join(" ", TestData.Lines(TestData.SotuPath).Skip(40).Take(8));

    private static SquadQuestion QuestionAbout(string context, int fromEnd)
    {
        // The answer: a word near the end of the context, found by position so that the test needs no typed-in text.
        var words = Tokenizer.Tokenize(context).Where(t => t.Token.All(char.IsLetter) && t.Token.Length > 3).ToList();
        var offset = words[^fromEnd].Offset;
        string answer = context[offset.Start..offset.End];
        return new SquadQuestion("q1", "What word is it?", context, [new SquadAnswer(answer, offset.Start)], false);
    }

    [Fact]
    public void Long_contexts_split_into_overlapping_windows_whose_labels_map_back_to_the_answer_characters()
    {
        string context = LongContext();
        int contextTokens = Tokenizer.Tokenize(context).Count;
        Assert.True(contextTokens > 600, $"the context has {contextTokens} tokens");
        var question = QuestionAbout(context, fromEnd: 5);
        var windows = QuestionWindow.Of([question], Tokenizer, maxLength: 128, docStride: 32);

        Assert.True(windows.Count >= 6);
        Assert.All(windows, w => Assert.True(w.Encoding.Length <= 128));
        // Consecutive windows share exactly the stride's tokens, and together they cover the whole context.
        for (int i = 1; i < windows.Count; i++)
        {
            var previous = windows[i - 1].ContextOffsets;
            Assert.Equal(previous[^32..], windows[i].ContextOffsets[..32]);
        }
        Assert.Equal(0, windows[0].ContextOffsets[0].Start);
        Assert.Equal(Tokenizer.Tokenize(context)[^1].Offset, windows[^1].ContextOffsets[^1]);

        var labelled = windows.Where(w => w.StartPosition > 0).ToList();
        Assert.NotEmpty(labelled);
        Assert.Equal(0, windows[0].StartPosition);
        foreach (var window in labelled)
        {
            int from = window.ContextOffsets[window.StartPosition - window.ContextStart].Start;
            int to = window.ContextOffsets[window.EndPosition - window.ContextStart].End;
            Assert.Equal(question.Answers[0].Text, context[from..to]);
            Assert.Equal(question.Answers[0].Start, from);
        }
    }

    [Fact]
    public void Span_search_returns_the_answer_text_and_character_offsets_across_windows()
    {
        string context = LongContext();
        var question = QuestionAbout(context, fromEnd: 3);
        var windows = QuestionWindow.Of([question], Tokenizer, maxLength: 128, docStride: 32);
        var starts = windows.Select(w => new float[w.Encoding.Length]).ToList();
        var ends = windows.Select(w => new float[w.Encoding.Length]).ToList();
        int target = windows.FindLastIndex(w => w.StartPosition > 0);
        starts[target][windows[target].StartPosition] = 10;
        ends[target][windows[target].EndPosition] = 10;
        // A tempting span outside the context (the question) must be ignored.
        starts[0][1] = 50;
        ends[0][1] = 50;

        var answer = new AnswerSpanSearch().Best(question, windows, starts, ends);
        Assert.Equal(question.Answers[0].Text, answer.Text);
        Assert.Equal(question.Answers[0].Start, answer.Start);
        Assert.Equal(context[answer.Start..answer.End], answer.Text);

        // SQuAD 2.0: when [CLS] scores above every span, there is no answer.
        foreach (var s in starts) s[0] = 30;
        foreach (var e in ends) e[0] = 30;
        Assert.Equal("", new AnswerSpanSearch(AllowNoAnswer: true).Best(question, windows, starts, ends).Text);
        Assert.Equal(question.Answers[0].Text, new AnswerSpanSearch(AllowNoAnswer: false).Best(question, windows, starts, ends).Text);
    }

    [Fact]
    public void Spans_longer_than_the_maximum_answer_length_are_not_candidates()
    {
        string context = LongContext();
        var question = QuestionAbout(context, fromEnd: 3);
        var windows = QuestionWindow.Of([question], Tokenizer, maxLength: 128, docStride: 32);
        var starts = windows.Select(w => new float[w.Encoding.Length]).ToList();
        var ends = windows.Select(w => new float[w.Encoding.Length]).ToList();
        var first = windows[0];
        starts[0][first.ContextStart] = 10;
        ends[0][first.ContextStart + 40] = 10;
        var answer = new AnswerSpanSearch(MaxAnswerLength: 30).Best(question, windows, starts, ends);
        Assert.True(Tokenizer.Tokenize(answer.Text).Count <= 30);
    }
}
