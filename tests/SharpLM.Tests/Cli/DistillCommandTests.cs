using System.Text.Json;
using SharpLM.Model;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Training;

namespace SharpLM.Tests.Cli;

/// <summary>
/// distill classify and ner end to end: a tiny teacher fine-tuned on a task from the real corpus, and students that must
/// follow it. Labels are flipped in the student's training file where the test needs to tell the teacher's term from the gold one.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class DistillCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static double Metric(string json, string name) => JsonDocument.Parse(json).RootElement.GetProperty(name).GetDouble();

    private string Teacher()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("pretrained"), maxPositions: 128), teacher = _temp.Of("teacher");
        var run = CliRun.Of("finetune", "classify", "--model", model, "--train", TaskFiles.Language(_temp, "train.csv", 0, 80),
            "--dev", TaskFiles.Language(_temp, "dev.csv", 500, 20), "--output", teacher, "--epochs", "2", "--lr", "1e-3", "--max-length", "32", "--seed", "5");
        Assert.True(run.ExitCode == 0 && Metric(run.Output, "accuracy") >= 0.95, run.Output + run.Error);
        return teacher;
    }

    [Fact]
    public void A_classifier_student_follows_the_teacher_by_alpha_and_learns_from_transfer_text_alone()
    {
        string teacher = Teacher(), dev = _temp.Of("dev.csv");
        // The student's training file says the opposite of the truth: only the teacher's term can teach it the task.
        string flipped = _temp.Write("flipped.csv", File.ReadAllText(_temp.Of("train.csv")).Replace(",english\n", ",X\n").Replace(",chinese\n", ",english\n").Replace(",X\n", ",chinese\n"));
        string[] Distill(string train) => ["distill", "classify", "--teacher", teacher, "--student-preset", "tiny", "--train", train, "--dev", dev,
            "--epochs", "2", "--lr", "1e-3", "--max-length", "32", "--seed", "3", "--temperature", "2"];
        string[] common = Distill(flipped);

        var teacherOnly = CliRun.Of([.. common, "--alpha", "1", "--output", _temp.Of("teacher-only")]);
        Assert.True(teacherOnly.ExitCode == 0, teacherOnly.Error);
        Assert.Contains("the teacher scored 160 training and 0 transfer examples", teacherOnly.Error);
        Assert.Contains("student: 2x128", teacherOnly.Error);
        Assert.True(Metric(teacherOnly.Output, "accuracy") >= 0.95, teacherOnly.Output);

        // At alpha 0 the teacher has no say: distilling is fine-tuning on the gold labels, loss for loss.
        string pretrained = _temp.Of("pretrained");
        string[] recipe = ["--train", flipped, "--dev", dev, "--epochs", "2", "--lr", "1e-3", "--max-length", "32", "--seed", "3"];
        var goldOnly = CliRun.Of(["distill", "classify", "--teacher", teacher, "--student", pretrained, "--alpha", "0", "--output", _temp.Of("gold-only"), .. recipe]);
        var finetuned = CliRun.Of(["finetune", "classify", "--model", pretrained, "--output", _temp.Of("finetuned"), .. recipe]);
        Assert.True(goldOnly.ExitCode == 0 && finetuned.ExitCode == 0, goldOnly.Error + finetuned.Error);
        string Losses(string run) => string.Join(" ", File.ReadAllLines(_temp.Of(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()));
        Assert.Equal(Losses("finetuned"), Losses("gold-only"));
        Assert.Equal(finetuned.Output, goldOnly.Output);

        // Four labelled texts and 160 unlabelled ones that the teacher labels.
        string few = _temp.Write("few.csv", string.Join("\n", File.ReadAllLines(_temp.Of("train.csv")).Where((_, i) => i is 0 or 1 or 2 or 81 or 82)) + "\n");
        string transfer = _temp.Write("transfer.jsonl", string.Join("\n", TaskFiles.Texts(_temp.Of("train.csv")).Select(t => JsonSerializer.Serialize(new { text = t }))) + "\n");
        string student = _temp.Of("student");
        var withTransfer = CliRun.Of([.. Distill(few), "--alpha", "0.5", "--transfer", transfer, "--output", student]);
        Assert.True(withTransfer.ExitCode == 0, withTransfer.Error);
        Assert.Contains("the teacher scored 4 training and 160 transfer examples", withTransfer.Error);
        Assert.True(Metric(withTransfer.Output, "accuracy") >= 0.95, withTransfer.Output);

        string french = _temp.Write("french.csv", "text,label\nBonjour à tous,french\n");
        CliRun.Of([.. Distill(french), "--output", _temp.Of("french")]).AssertFailsNaming("french.csv", "label 'french' is not one of the teacher's");

        // The student is an ordinary fine-tuned model folder with the teacher's labels.
        var config = BertConfig.Load(student);
        Assert.Equal(["chinese", "english"], config.Labels);
        Assert.Equal((2, 128), (config.NumHiddenLayers, config.HiddenSize));
        var predicted = CliRun.Of("predict", "classify", "--model", student, "白日依山盡，黃河入海流。");
        Assert.Equal("chinese", JsonDocument.Parse(predicted.Output).RootElement.GetProperty("label").GetString());
    }

    [Fact]
    public void A_tagger_student_with_another_chunk_length_learns_entities_from_the_teacher_word_by_word()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("pretrained"), maxPositions: 128), teacher = _temp.Of("teacher");
        string train = TaskFiles.EntityTagging(_temp, "train.conll", 0, 120), dev = TaskFiles.EntityTagging(_temp, "dev.conll", 300, 40);
        var taught = CliRun.Of("finetune", "ner", "--model", model, "--train", train, "--dev", dev, "--output", teacher,
            "--epochs", "3", "--lr", "2e-3", "--max-length", "48", "--batch-size", "8");
        Assert.True(taught.ExitCode == 0 && Metric(taught.Output, "f1") >= 0.9, taught.Output + taught.Error);

        // A student cutting sentences into shorter chunks than the teacher still gets one teacher row per word.
        using (var teacherTagger = TokenTagger.Load(teacher))
        {
            TorchSharp.torch.random.manual_seed(1);
            using var student = TokenTagger.Create(BertConfig.Preset("tiny", teacherTagger.Tokenizer.Vocabulary.Count) with { Labels = teacherTagger.Config.Labels },
                teacherTagger.Tokenizer, maxLength: 12);
            var sentences = ConllFile.Read(train).Take(20).ToList();
            var chunks = TaggerDistillation.Chunks(teacherTagger, student, sentences, []);
            Assert.True(chunks.Count > sentences.Count);
            Assert.All(chunks, c => Assert.Equal(c.Chunk.WordPositions.Length, c.TeacherLogits.Length));
            Assert.Equal(sentences.Sum(s => s.Words.Count), chunks.Sum(c => c.TeacherLogits.Length));
        }

        string lines = _temp.Write("transfer.txt", string.Join("\n", TaskFiles.Sentences(_temp.Of("train.conll"))) + "\n");
        string output = _temp.Of("student");
        var run = CliRun.Of("distill", "ner", "--teacher", teacher, "--student-preset", "tiny", "--train", train, "--dev", dev, "--transfer", lines,
            "--output", output, "--epochs", "3", "--lr", "2e-3", "--max-length", "24", "--batch-size", "8", "--no-crf");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("the teacher scored 120 training and 120 transfer sentences", run.Error);
        Assert.True(Metric(run.Output, "f1") >= 0.9, run.Output + run.Error);
        Assert.False(BertConfig.Load(output).Crf);
    }

    [Fact]
    public void Bad_distillation_settings_fail_with_one_clear_line()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("pretrained"), maxPositions: 128), train = TaskFiles.Language(_temp, "train.csv", 0, 4);
        string[] common = ["distill", "classify", "--teacher", model, "--train", train, "--output", _temp.Of("out")];
        CliRun.Of([.. common]).AssertFailsNaming("--student", "one of them");
        CliRun.Of([.. common, "--student", model, "--student-preset", "tiny"]).AssertFailsNaming("--student-preset", "one of them");
        CliRun.Of([.. common, "--student-preset", "huge"]).AssertFailsNaming("huge", "unknown preset");
        CliRun.Of([.. common, "--student-preset", "tiny", "--alpha", "2"]).AssertFailsNaming("--alpha", "[0, 1]");
        CliRun.Of([.. common, "--student-preset", "tiny", "--temperature", "0"]).AssertFailsNaming("--temperature", "positive");
        // A pretrained folder is not a fine-tuned teacher.
        CliRun.Of([.. common, "--student-preset", "tiny"]).AssertFailsNaming(model, "fine-tune a model for this task first");
    }
}
