using System.Text.Json;

namespace SharpLM.Tasks.QuestionAnswering;

/// <summary>
/// Reads SQuAD v1.1 and v2.0 JSON (data -> paragraphs -> qas). v2.0's is_impossible questions keep no
/// answers. An answer whose answer_start does not point at its text is refused by question id.
/// </summary>
public static class SquadFile
{
    /// <summary>The questions of <paramref name="path"/>, in file order.</summary>
    public static List<SquadQuestion> Read(string path)
    {
        JsonDocument document;
        try { document = JsonDocument.Parse(TaskFile.ReadText(path)); }
        catch (JsonException e) { throw new InvalidInputException($"{path}: not valid JSON ({e.Message})."); }
        using var _ = document;
        var questions = new List<SquadQuestion>();
        try
        {
            if (!document.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                throw new InvalidInputException($"{path}: no 'data' array; expected SQuAD v1.1 or v2.0 JSON.");
            foreach (var article in data.EnumerateArray())
            foreach (var paragraph in article.GetProperty("paragraphs").EnumerateArray())
            {
                string context = paragraph.GetProperty("context").GetString() ?? "";
                foreach (var qa in paragraph.GetProperty("qas").EnumerateArray())
                {
                    string id = qa.GetProperty("id").ToString();
                    bool impossible = qa.TryGetProperty("is_impossible", out var flag) && flag.GetBoolean();
                    var answers = new List<SquadAnswer>();
                    if (!impossible && qa.TryGetProperty("answers", out var list))
                        foreach (var answer in list.EnumerateArray())
                        {
                            string text = answer.GetProperty("text").GetString() ?? "";
                            int start = answer.GetProperty("answer_start").GetInt32();
                            if (start < 0 || start + text.Length > context.Length || string.CompareOrdinal(context, start, text, 0, text.Length) != 0)
                                throw new InvalidInputException($"{path}: question {id}: answer '{text}' is not at answer_start {start} of its context.");
                            answers.Add(new SquadAnswer(text, start));
                        }
                    questions.Add(new SquadQuestion(id, qa.GetProperty("question").GetString() ?? "", context, answers, impossible));
                }
            }
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{path}: not in SQuAD's layout ({e.Message}).");
        }
        if (questions.Count == 0) throw new InvalidInputException($"{path}: no questions.");
        return questions;
    }
}
