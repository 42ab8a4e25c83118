using SharpLM.Tasks.Classification;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.TokenClassification;

namespace SharpLM.Tests.Tasks;

public class TaskDataTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void CSV_with_quoted_multi_line_fields_TSV_and_JSON_lines_read_the_same_examples()
    {
        string csv = _temp.Write("data.csv", "label,text,text_pair\nspam,\"Buy now,\ncheap \"\"pills\"\"\",\nham,See you at lunch,ok\n");
        string tsv = _temp.Write("data.tsv", "text\tlabel\nBuy now\tspam\nSee you \"at\" lunch\tham\n");
        string jsonl = _temp.Write("data.jsonl", "{\"text\": \"Buy now\", \"label\": 1}\n\n{\"text\": \"See you\", \"text_pair\": \"ok\", \"label\": \"ham\"}\n");
        var fromCsv = ClassificationData.Read(csv);
        Assert.Equal(new ClassificationExample("Buy now,\ncheap \"pills\"", "", "spam"), fromCsv[0]);
        Assert.Equal(new ClassificationExample("See you at lunch", "ok", "ham"), fromCsv[1]);
        var fromTsv = ClassificationData.Read(tsv);
        Assert.Equal(new ClassificationExample("See you \"at\" lunch", null, "ham"), fromTsv[1]);
        var fromJson = ClassificationData.Read(jsonl);
        Assert.Equal(new ClassificationExample("Buy now", null, "1"), fromJson[0]);
        Assert.Equal(new ClassificationExample("See you", "ok", "ham"), fromJson[1]);
        var renamed = ClassificationData.Read(_temp.Write("renamed.csv", "body,class\nhello,x\n"), new ClassificationColumns("body", "none", "class"));
        Assert.Equal(new ClassificationExample("hello", null, "x"), renamed[0]);
    }

    [Fact]
    public void Classification_files_without_text_column_or_labels_are_refused_by_name()
    {
        string noText = _temp.Write("a.csv", "body,label\nhello,x\n");
        Assert.Contains("no 'text' column", Assert.Throws<InvalidInputException>(() => ClassificationData.Read(noText)).Message);
        string noLabel = _temp.Write("b.jsonl", "{\"text\": \"hello\"}\n");
        var error = Assert.Throws<InvalidInputException>(() => ClassificationData.Read(noLabel)).Message;
        Assert.Contains("b.jsonl", error);
        Assert.Contains("no 'label'", error);
        Assert.Single(ClassificationData.Read(noLabel, requireLabels: false));
        string badJson = _temp.Write("c.jsonl", "{\"text\": \n");
        Assert.Contains("line 1 is not valid JSON", Assert.Throws<InvalidInputException>(() => ClassificationData.Read(badJson)).Message);
        string invalidUtf8 = _temp.Write("d.csv", [(byte)'t', (byte)'e', (byte)'x', (byte)'t', (byte)'\n', 0xC3, 0x28, (byte)'\n']);
        Assert.Contains("invalid UTF-8 at byte 5", Assert.Throws<InvalidInputException>(() => ClassificationData.Read(invalidUtf8)).Message);
    }

    [Fact]
    public void CoNLL_reads_words_and_last_column_tags_skipping_docstart()
    {
        string path = _temp.Write("train.conll", "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\r\nPeter\tB-PER\nBlackburn\tI-PER\n");
        var sentences = ConllFile.Read(path);
        Assert.Equal(2, sentences.Count);
        Assert.Equal(["EU", "rejects"], sentences[0].Words);
        Assert.Equal(["B-ORG", "O"], sentences[0].Tags!);
        Assert.Equal(["B-PER", "I-PER"], sentences[1].Tags!);
        Assert.Equal(["O", "B-ORG", "B-PER", "I-PER"], TokenTagger.TagsOf(sentences));
        string bad = _temp.Write("bad.conll", "EU B-ORG\nrejects\n");
        Assert.Contains("line 2 has a word but no tag", Assert.Throws<InvalidInputException>(() => ConllFile.Read(bad)).Message);
    }

    [Fact]
    public void SQuAD_v1_and_v2_files_read_answers_and_impossible_questions()
    {
        string path = _temp.Write("squad.json", """
            {"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "Paris is the capital of France.",
              "qas": [{"id": "a", "question": "What is the capital of France?", "answers": [{"text": "Paris", "answer_start": 0}]},
                      {"id": "b", "question": "What is the capital of Spain?", "answers": [], "is_impossible": true}]}]}]}
            """);
        var questions = SquadFile.Read(path);
        Assert.Equal(2, questions.Count);
        Assert.Equal([new SquadAnswer("Paris", 0)], questions[0].Answers);
        Assert.True(questions[1].IsImpossible);
        string wrongStart = _temp.Write("bad.json", """{"data": [{"paragraphs": [{"context": "Paris", "qas": [{"id": "x", "question": "q", "answers": [{"text": "Paris", "answer_start": 3}]}]}]}]}""");
        Assert.Contains("question x", Assert.Throws<InvalidInputException>(() => SquadFile.Read(wrongStart)).Message);
        string notSquad = _temp.Write("other.json", """{"rows": []}""");
        Assert.Contains("no 'data' array", Assert.Throws<InvalidInputException>(() => SquadFile.Read(notSquad)).Message);
    }
}
