using System.Text.Json;
using System.Text.RegularExpressions;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;

namespace SharpLM.Tests.Cli;

/// <summary>
/// finetune, predict and evaluate end to end on tasks made from the real default corpus, with a tiny
/// randomly initialised "pretrained" model: the tasks are easy enough that it must learn them in seconds.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class FinetuneCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string PretrainedTinyModel() => TestData.TinyPretrainedModel(_temp.Of("pretrained"), maxPositions: 128);

    private static double Metric(string json, string name) => JsonDocument.Parse(json).RootElement.GetProperty(name).GetDouble();

    [Fact]
    public void Classify_learns_English_from_Chinese_saves_labels_and_predicts_and_evaluates_the_best_model()
    {
        string model = PretrainedTinyModel(), output = _temp.Of("classifier");
        string train = TaskFiles.Language(_temp, "train.csv", 0, 80), dev = TaskFiles.Language(_temp, "dev.csv", 500, 20);
        var run = CliRun.Of("finetune", "classify", "--model", model, "--train", train, "--dev", dev, "--output", output,
            "--epochs", "2", "--lr", "1e-3", "--max-length", "32", "--seed", "5");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches(@"epoch 2 step +20/20 \| loss [\d.]+ \| lr .* tokens/s \| ETA", run.Error);
        Assert.True(Metric(run.Output, "accuracy") >= 0.95, run.Output + run.Error);

        var config = BertConfig.Load(output);
        Assert.Equal(["chinese", "english"], config.Labels);
        Assert.Equal("BertForSequenceClassification", config.Architecture);

        var predicted = CliRun.Of("predict", "classify", "--model", output, "白日依山盡，黃河入海流。");
        Assert.Equal("chinese", JsonDocument.Parse(predicted.Output).RootElement.GetProperty("label").GetString());
        var evaluated = CliRun.Of("evaluate", "classify", "--model", output, "--data", dev);
        Assert.Equal(Metric(run.Output, "accuracy"), Metric(evaluated.Output, "accuracy"));
        Assert.Equal(Metric(run.Output, "macro_f1"), Metric(evaluated.Output, "macro_f1"));

        // predict and evaluate truncate at the length the model was fine-tuned at, which the folder records
        // as Hugging Face does; a folder with Hugging Face's "no limit" value falls back to the positions.
        string tokenizerConfig = Path.Combine(output, "tokenizer_config.json");
        Assert.Equal(32, JsonDocument.Parse(File.ReadAllText(tokenizerConfig)).RootElement.GetProperty("model_max_length").GetInt32());
        using (var classifier = SharpLM.Tasks.Classification.TextClassifier.Load(output)) Assert.Equal(32, classifier.MaxLength);
        using (var classifier = SharpLM.Tasks.Classification.TextClassifier.Load(output, 64)) Assert.Equal(64, classifier.MaxLength);
        File.WriteAllText(tokenizerConfig, "{\"do_lower_case\": true, \"model_max_length\": 1000000000000000019884624838656}");
        using (var classifier = SharpLM.Tasks.Classification.TextClassifier.Load(output)) Assert.Equal(128, classifier.MaxLength);
    }

    [Fact]
    public void An_ELECTRA_discriminator_fine_tunes_for_classification_and_tagging_with_Hugging_Face_ELECTRA_heads()
    {
        // A randomly initialised tiny ELECTRA discriminator, saved as `pretrain --objective electra` saves it.
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count) with { MaxPositionEmbeddings = 128, ModelType = "electra", EmbeddingWidth = 64, Architecture = "ElectraForPreTraining" };
        TorchSharp.torch.random.manual_seed(1);
        string model = _temp.Of("electra");
        using (var discriminator = new ElectraForPreTraining(config)) HuggingFaceCheckpoint.Save(discriminator, config, vocabulary, model);

        string classifier = _temp.Of("classifier");
        var run = CliRun.Of("finetune", "classify", "--model", model, "--train", TaskFiles.Language(_temp, "train.csv", 0, 80), "--dev", TaskFiles.Language(_temp, "dev.csv", 500, 20),
            "--output", classifier, "--epochs", "2", "--lr", "1e-3", "--max-length", "32", "--seed", "5");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.True(Metric(run.Output, "accuracy") >= 0.95, run.Output + run.Error);
        Assert.Equal("ElectraForSequenceClassification", BertConfig.Load(classifier).Architecture);
        var names = HuggingFaceCheckpoint.ReadWeights(classifier).Keys.ToList();
        Assert.Contains("classifier.dense.weight", names);
        Assert.Contains("classifier.out_proj.weight", names);
        Assert.Contains("electra.embeddings_project.weight", names);
        Assert.All(names, n => Assert.True(n.StartsWith("electra.", StringComparison.Ordinal) || n.StartsWith("classifier.", StringComparison.Ordinal), n));
        var predicted = CliRun.Of("predict", "classify", "--model", classifier, "白日依山盡，黃河入海流。");
        Assert.Equal("chinese", JsonDocument.Parse(predicted.Output).RootElement.GetProperty("label").GetString());

        string tagger = _temp.Of("tagger");
        var tagging = CliRun.Of("finetune", "ner", "--model", model, "--train", TaskFiles.EntityTagging(_temp, "train.conll", 0, 40), "--dev", TaskFiles.EntityTagging(_temp, "dev.conll", 300, 10),
            "--output", tagger, "--epochs", "1", "--max-length", "48", "--batch-size", "8", "--no-crf");
        Assert.True(tagging.ExitCode == 0, tagging.Error);
        Assert.Equal("ElectraForTokenClassification", BertConfig.Load(tagger).Architecture);
        Assert.Contains("classifier.weight", HuggingFaceCheckpoint.ReadWeights(tagger).Keys);
        Assert.Equal(0, CliRun.Of("evaluate", "ner", "--model", tagger, "--data", TaskFiles.EntityTagging(_temp, "test.conll", 400, 10)).ExitCode);
    }

    [Fact]
    public void NER_with_a_CRF_learns_entities_and_predicts_character_offsets()
    {
        string model = PretrainedTinyModel(), output = _temp.Of("tagger");
        string train = TaskFiles.EntityTagging(_temp, "train.conll", 0, 120), dev = TaskFiles.EntityTagging(_temp, "dev.conll", 300, 40);
        var run = CliRun.Of("finetune", "ner", "--model", model, "--train", train, "--dev", dev, "--output", output,
            "--epochs", "3", "--lr", "2e-3", "--max-length", "48", "--batch-size", "8");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("BIO scheme, CRF decoding", run.Error);
        Assert.True(Metric(run.Output, "f1") >= 0.9, run.Output + run.Error);
        Assert.True(BertConfig.Load(output).Crf);

        string text = "Together, the Congress and the people of the United States will keep America strong.";
        var predicted = CliRun.Of("predict", "ner", "--model", output, text);
        var entities = JsonDocument.Parse(predicted.Output).RootElement.EnumerateArray().ToList();
        Assert.NotEmpty(entities);
        foreach (var entity in entities)
        {
            int start = entity.GetProperty("start").GetInt32(), end = entity.GetProperty("end").GetInt32();
            Assert.Equal(text[start..end], entity.GetProperty("word").GetString());
        }
        Assert.Contains(entities, e => e.GetProperty("word").GetString() == "United States" && e.GetProperty("entity_group").GetString() == "LOC");
        Assert.Contains(entities, e => e.GetProperty("word").GetString() == "Congress" && e.GetProperty("entity_group").GetString() == "ORG");
        var evaluated = CliRun.Of("evaluate", "ner", "--model", output, "--data", dev);
        Assert.Equal(Metric(run.Output, "f1"), Metric(evaluated.Output, "f1"));
    }

    [Fact]
    public void QA_fine_tunes_on_windowed_contexts_and_answers_with_offsets_into_the_context()
    {
        string model = PretrainedTinyModel(), output = _temp.Of("qa");
        // Questions on real paragraphs: the answer is the number in a sentence, asked with "what" in its place.
        var sentences = TestData.Lines(TestData.SotuPath).SelectMany(l => l.Split(". ")).Where(s => Regex.IsMatch(s, @"\b\d")).Take(24).ToList();
        var paragraphs = sentences.Chunk(4).Select(c => string.Join(". ", c) + ".").ToList();
        int id = 0;
        var articles = paragraphs.Select(context => new
        {
            context,
            qas = Regex.Matches(context, @"\b\d[\d,]*\b").Take(3).Select(m => new { id = $"q{id++}", question = "What number is it?", answers = new[] { new { text = m.Value, answer_start = m.Index } } }).ToList(),
        }).Where(p => p.qas.Count > 0).ToList();
        string squad = _temp.Write("train.json", JsonSerializer.Serialize(new { version = "v1.1", data = new[] { new { title = "sotu", paragraphs = articles } } }));

        var run = CliRun.Of("finetune", "qa", "--model", model, "--train", squad, "--dev", squad, "--output", output,
            "--epochs", "1", "--lr", "1e-3", "--max-length", "64", "--doc-stride", "16", "--batch-size", "8");
        Assert.True(run.ExitCode == 0, run.Error);
        var windows = int.Parse(Regex.Match(run.Error, @"\((\d+) windows\)").Groups[1].Value);
        int questions = articles.Sum(a => a.qas.Count);
        Assert.True(windows > 2 * questions, $"{windows} windows for {questions} questions");
        Assert.InRange(Metric(run.Output, "f1"), 0, 100);

        string context = paragraphs[0];
        var predicted = CliRun.Of("predict", "qa", "--model", output, "--question", "What number is it?", "--context", context, "--max-length", "64", "--doc-stride", "16");
        Assert.True(predicted.ExitCode == 0, predicted.Error);
        var answer = JsonDocument.Parse(predicted.Output).RootElement;
        int start = answer.GetProperty("start").GetInt32(), end = answer.GetProperty("end").GetInt32();
        Assert.Equal(context[start..end], answer.GetProperty("answer").GetString());
        Assert.True(end > start);
        var evaluated = CliRun.Of("evaluate", "qa", "--model", output, "--data", squad, "--max-length", "64", "--doc-stride", "16");
        Assert.Equal(Metric(run.Output, "f1"), Metric(evaluated.Output, "f1"));
    }

    [Fact]
    public void Bad_task_inputs_fail_with_one_clear_line_and_leave_an_existing_model_untouched()
    {
        string model = PretrainedTinyModel();
        string oneLabel = _temp.Write("one.csv", "text,label\nhello,a\nworld,a\n");
        CliRun.Of("finetune", "classify", "--model", model, "--train", oneLabel, "--output", _temp.Of("x")).AssertFailsNaming("one.csv", "only one label");

        string existing = _temp.Of("existing");
        Directory.CreateDirectory(existing);
        File.WriteAllText(Path.Combine(existing, "config.json"), "{}");
        string train = TaskFiles.Language(_temp, "t.csv", 0, 4);
        CliRun.Of("finetune", "classify", "--model", model, "--train", train, "--output", existing).AssertFailsNaming(existing, "already holds a model");
        Assert.Equal("{}", File.ReadAllText(Path.Combine(existing, "config.json")));

        CliRun.Of("predict", "classify", "--model", model, "hello").AssertFailsNaming(model, "not BertForSequenceClassification");
        CliRun.Of("finetune", "ner", "--model", model, "--train", _temp.Write("bad.conll", "word\n"), "--output", _temp.Of("y")).AssertFailsNaming("bad.conll", "no tag");
        CliRun.Of("evaluate", "qa", "--model", model, "--data", _temp.Write("q.json", "{\"rows\": 1}")).AssertFailsNaming("q.json", "no 'data' array");
        CliRun.Of("finetune", "classify", "--model", model, "--train", train, "--output", _temp.Of("z"), "--lr", "-1").AssertFailsNaming("--lr", "must be a positive number");
    }
}
