using SharpLM.Text;

namespace SharpLM.Tasks.QuestionAnswering;

/// <summary>
/// One model input for a question: [CLS] question [SEP] a window of the context [SEP]. Long contexts
/// give several windows that overlap by the doc stride; each context token keeps its character offsets
/// so that a predicted span maps back to the original text.
/// </summary>
/// <param name="Question">Index of the question in the list the windows were made from.</param>
/// <param name="Encoding">The tokens, type ids 0 for the question and 1 for the context.</param>
/// <param name="ContextStart">Position of the window's first context token.</param>
/// <param name="ContextOffsets">Character offsets in the context of the window's context tokens, from <paramref name="ContextStart"/> on.</param>
/// <param name="StartPosition">Training label: position of the answer's first token, or 0 ([CLS]) when the answer is not wholly inside this window or there is none.</param>
/// <param name="EndPosition">Training label: position of the answer's last token, or 0.</param>
public sealed record QuestionWindow(int Question, EncodedText Encoding, int ContextStart, TokenOffset[] ContextOffsets, int StartPosition, int EndPosition)
{
    /// <summary>Whether position <paramref name="position"/> holds a context token.</summary>
    public bool IsContext(int position) => position >= ContextStart && position < ContextStart + ContextOffsets.Length;

    /// <summary>
    /// Splits every question's context into windows of at most <paramref name="maxLength"/> tokens. The
    /// question keeps at most <paramref name="maxQuestionLength"/> tokens; consecutive windows share
    /// <paramref name="docStride"/> context tokens (Hugging Face's meaning of stride).
    /// </summary>
    public static List<QuestionWindow> Of(IReadOnlyList<SquadQuestion> questions, BertTokenizer tokenizer,
        int maxLength = 384, int docStride = 128, int maxQuestionLength = 64)
    {
        var vocabulary = tokenizer.Vocabulary;
        int cls = vocabulary.ClassifierId, sep = vocabulary.SeparatorId;
        var windows = new List<QuestionWindow>();
        string? tokenizedContext = null;
        IReadOnlyList<(string Token, TokenOffset Offset)> context = [];
        for (int q = 0; q < questions.Count; q++)
        {
            var question = questions[q];
            var questionIds = tokenizer.Tokenize(question.Question).Take(maxQuestionLength).Select(t => vocabulary.IdOf(t.Token)).ToArray();
            // SQuAD asks several questions of one context in a row: tokenize it once for all of them.
            if (!ReferenceEquals(question.Context, tokenizedContext))
            {
                context = tokenizer.Tokenize(question.Context);
                tokenizedContext = question.Context;
            }
            int room = maxLength - questionIds.Length - 3;
            if (room <= docStride)
                throw new InvalidInputException($"question {question.Id}: max length {maxLength} leaves {room} context tokens per window, not more than the doc stride {docStride}.");
            // The answer's token span in the whole context, from its character span.
            int answerFirst = -1, answerLast = -1;
            if (question.Answers.Count > 0)
            {
                var answer = question.Answers[0];
                int charEnd = answer.Start + answer.Text.Length;
                for (int i = 0; i < context.Count; i++)
                {
                    var offset = context[i].Offset;
                    if (answerFirst < 0 && offset.End > answer.Start) answerFirst = i;
                    if (offset.Start < charEnd) answerLast = i;
                }
                if (answerFirst > answerLast) answerFirst = answerLast = -1;
            }
            for (int from = 0; ; from += room - docStride)
            {
                int count = Math.Min(room, context.Count - from);
                int contextStart = questionIds.Length + 2;
                int length = contextStart + count + 1;
                var ids = new int[length];
                var types = new int[length];
                var special = new int[length];
                var offsets = new TokenOffset[length];
                ids[0] = cls;
                special[0] = 1;
                questionIds.CopyTo(ids, 1);
                ids[contextStart - 1] = sep;
                special[contextStart - 1] = 1;
                var contextOffsets = new TokenOffset[count];
                for (int i = 0; i < count; i++)
                {
                    var (token, offset) = context[from + i];
                    ids[contextStart + i] = vocabulary.IdOf(token);
                    types[contextStart + i] = 1;
                    offsets[contextStart + i] = contextOffsets[i] = offset;
                }
                ids[^1] = sep;
                types[^1] = 1;
                special[^1] = 1;
                bool inside = answerFirst >= from && answerLast < from + count;
                windows.Add(new QuestionWindow(q, new EncodedText(vocabulary, ids, types, special, offsets), contextStart, contextOffsets,
                    inside ? contextStart + answerFirst - from : 0, inside ? contextStart + answerLast - from : 0));
                if (from + count >= context.Count) break;
            }
        }
        return windows;
    }
}
