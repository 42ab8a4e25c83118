using System.Text.Json;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Tests.Interop;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tests.Cli;

/// <summary>
/// <c>sharplm export onnx</c> and the onnx engine of embed, fill-mask, predict and evaluate: the exported
/// folder gives what the TorchSharp engine gives on the original folder.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class ExportCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Export(string model, string name, params string[] extra)
    {
        string onnx = _temp.Of(name, "model.onnx");
        var run = CliRun.Of(["export", "onnx", "--model", model, "--output", onnx, .. extra]);
        Assert.True(run.ExitCode == 0, run.Error);
        var summary = JsonDocument.Parse(run.Output).RootElement;
        Assert.Equal(Path.GetFullPath(onnx), summary.GetProperty("onnx").GetString());
        foreach (var file in summary.GetProperty("beside").EnumerateArray()) Assert.True(File.Exists(_temp.Of(name, file.GetString()!)), file.GetString());
        return _temp.Of(name);
    }

    private static float[] Floats(string jsonLine) => JsonDocument.Parse(jsonLine).RootElement.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public void Embed_through_ONNX_Runtime_matches_the_TorchSharp_engine_on_all_MiniLM_L6_v2()
    {
        string exported = Export(MiniLmOnnx.ModelDirectory, "minilm");
        Assert.True(File.Exists(Path.Combine(exported, "tokenizer.json")));
        string input = _temp.Write("lines.txt", "The state of our Union is strong.\nWe must balance the budget, and we will.\n");
        foreach (string pooling in new[] { "cls", "mean" })
        {
            var torch = CliRun.Of("embed", "--model", MiniLmOnnx.ModelDirectory, "--pooling", pooling, "--input", input);
            var onnx = CliRun.Of("embed", "--model", exported, "--engine", "onnx", "--pooling", pooling, "--input", input);
            Assert.True(onnx.ExitCode == 0, onnx.Error);
            var torchLines = torch.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var onnxLines = onnx.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, onnxLines.Length);
            foreach (var (a, b) in torchLines.Zip(onnxLines))
                Assert.True(Floats(a).Zip(Floats(b)).Max(p => Math.Abs(p.First - p.Second)) <= 1e-4);
        }
    }

    [Fact]
    public void Fill_mask_through_ONNX_Runtime_gives_the_TorchSharp_engine_tokens_and_scores_fp32_and_int8_runs()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("tiny"), 64);
        string exported = Export(model, "tiny-onnx");
        string text = "The [MASK] of the Union is [MASK].";
        var torch = CliRun.Of("fill-mask", "--model", model, "--top-k", "4", text);
        var onnx = CliRun.Of("fill-mask", "--model", exported, "--engine", "onnx", "--top-k", "4", text);
        Assert.True(onnx.ExitCode == 0, onnx.Error);
        var torchLines = torch.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var onnxLines = onnx.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, onnxLines.Count);
        foreach (var (a, b) in torchLines.Zip(onnxLines))
        {
            var pa = a.GetProperty("predictions").EnumerateArray().ToList();
            var pb = b.GetProperty("predictions").EnumerateArray().ToList();
            Assert.Equal(pa.Select(p => p.GetProperty("token_str").GetString()), pb.Select(p => p.GetProperty("token_str").GetString()));
            Assert.All(pa.Zip(pb), p => Assert.True(Math.Abs(p.First.GetProperty("score").GetDouble() - p.Second.GetProperty("score").GetDouble()) <= 1e-5));
        }

        string int8 = Export(model, "tiny-int8", "--quantize", "int8");
        Assert.True(new FileInfo(Path.Combine(int8, "model.onnx")).Length < new FileInfo(Path.Combine(exported, "model.onnx")).Length);
        var quantized = CliRun.Of("fill-mask", "--model", int8, "--engine", "onnx", text);
        Assert.True(quantized.ExitCode == 0, quantized.Error);
        Assert.Equal(2, quantized.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    // A small task model with random (perturbed) weights, saved as finetune saves it.
    private string TaskModel(string name, Func<BertConfig, nn.Module> create, BertConfig config)
    {
        random.manual_seed(11);
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        config = config with { VocabSize = vocabulary.Count, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, MaxPositionEmbeddings = 64 };
        using var model = create(config);
        OnnxExportTests.Perturb(model, scale: 0.1);
        string directory = _temp.Of(name);
        HuggingFaceCheckpoint.Save(model, config, vocabulary, directory, modelMaxLength: 48);
        return directory;
    }

    [Fact]
    public void Predict_and_evaluate_classify_ner_and_qa_through_ONNX_Runtime_print_what_the_TorchSharp_engine_prints()
    {
        var classifierConfig = new BertConfig { Labels = ["ham", "spam"], Architecture = "BertForSequenceClassification" };
        string classifier = TaskModel("classifier", c => new BertForSequenceClassification(c, 2), classifierConfig);
        string[] tags = ["O", "B-LOC", "I-LOC", "B-PER", "I-PER"];
        string tagger = TaskModel("tagger", c => new BertForTokenClassification(c), new BertConfig { Labels = tags, Architecture = "BertForTokenClassification", Crf = true });
        string qa = TaskModel("qa", c => new BertForQuestionAnswering(c), new BertConfig { Architecture = "BertForQuestionAnswering" });

        string texts = _temp.Write("texts.txt", "Win a free cruise now!\nThe meeting moved to Tuesday in Boston.\nPresident Kennedy spoke in Berlin about freedom and the wall.\n");
        string labelled = _temp.Write("labelled.jsonl", "{\"text\": \"Win a free cruise now!\", \"label\": \"spam\"}\n{\"text\": \"The meeting moved to Tuesday.\", \"label\": \"ham\"}\n{\"text\": \"Cheap pills, click here\", \"label\": \"spam\"}\n");
        string conll = _temp.Write("tags.conll", "President O\nKennedy B-PER\nspoke O\nin O\nBerlin B-LOC\n.\tO\n\nNew B-LOC\nYork I-LOC\nis O\nbig O\n");
        string squad = _temp.Write("squad.json", "{\"data\": [{\"paragraphs\": [{\"context\": \"The budget was balanced in 1998 by the Congress.\", \"qas\": [{\"id\": \"q1\", \"question\": \"When was the budget balanced?\", \"answers\": [{\"text\": \"1998\", \"answer_start\": 27}]}]}]}]}");

        void Same(string model, string exported, params string[] args)
        {
            var torch = CliRun.Of([.. args, "--model", model]);
            var onnx = CliRun.Of([.. args, "--model", exported, "--engine", "onnx"]);
            Assert.True(torch.ExitCode == 0, torch.Error);
            Assert.True(onnx.ExitCode == 0, onnx.Error);
            Assert.Equal(Rounded(torch.Output), Rounded(onnx.Output));
        }
        string exportedClassifier = Export(classifier, "classifier-onnx");
        Same(classifier, exportedClassifier, "predict", "classify", "--input", texts);
        Same(classifier, exportedClassifier, "evaluate", "classify", "--data", labelled);
        string exportedTagger = Export(tagger, "tagger-onnx");
        Assert.True(File.Exists(Path.Combine(exportedTagger, OnnxCrfFile)));
        Same(tagger, exportedTagger, "predict", "ner", "--input", texts);
        Same(tagger, exportedTagger, "evaluate", "ner", "--data", conll);
        string exportedQa = Export(qa, "qa-onnx");
        Same(qa, exportedQa, "predict", "qa", "--question", "When was the budget balanced?", "--context", "The budget was balanced in 1998 by the Congress.");
        Same(qa, exportedQa, "evaluate", "qa", "--data", squad);
    }

    private const string OnnxCrfFile = SharpLM.Interop.Onnx.OnnxExport.CrfFile;

    // Scores printed with every digit differ in the last places between engines: compare them at 4 decimals.
    private static string Rounded(string output) => System.Text.RegularExpressions.Regex.Replace(output, @"\d+\.\d{5,}(E-?\d+)?",
        m => Math.Round(double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture), 4).ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void Bad_inputs_fail_with_the_path_and_the_problem()
    {
        string empty = Directory.CreateDirectory(_temp.Of("empty")).FullName;
        File.WriteAllText(Path.Combine(empty, "config.json"), "{}");
        File.WriteAllText(Path.Combine(empty, "vocab.txt"), string.Join('\n', Enumerable.Range(0, 30522).Select(i => $"t{i}")));
        CliRun.Of("export", "onnx", "--model", empty, "--output", _temp.Of("out", "model.onnx")).AssertFailsNaming(empty, "no model.safetensors");
        Assert.False(File.Exists(_temp.Of("out", "model.onnx")));

        string model = TestData.TinyPretrainedModel(_temp.Of("tiny"), 64);
        CliRun.Of("embed", "--model", model, "--engine", "onnx", "Hello").AssertFailsNaming(model, "no .onnx file");
        CliRun.Of("export", "onnx", "--model", model, "--output", _temp.Of("x.onnx"), "--opset", "12").AssertFailsNaming("--opset 12", "17 to 21");

        // A folder holding another model keeps its files; the model's own folder takes the export beside its weights.
        string other = TestData.TinyPretrainedModel(_temp.Of("other"), 32);
        string otherConfig = File.ReadAllText(Path.Combine(other, "config.json"));
        CliRun.Of("export", "onnx", "--model", model, "--output", Path.Combine(other, "model.onnx")).AssertFailsNaming(other, "holds another model's weights");
        Assert.Equal(otherConfig, File.ReadAllText(Path.Combine(other, "config.json")));
        Assert.False(File.Exists(Path.Combine(other, "model.onnx")));
        string ownConfig = File.ReadAllText(Path.Combine(model, "config.json"));
        var beside = CliRun.Of("export", "onnx", "--model", model, "--output", model);
        Assert.True(beside.ExitCode == 0, beside.Error);
        Assert.True(File.Exists(Path.Combine(model, "model.onnx")) && File.Exists(Path.Combine(model, "tokenizer.json")));
        Assert.Equal(ownConfig, File.ReadAllText(Path.Combine(model, "config.json")));
        Assert.Equal(0, CliRun.Of("fill-mask", "--model", model, "--engine", "onnx", "A [MASK].").ExitCode);

        string classifier = TaskModel("classifier", c => new BertForSequenceClassification(c, 2), new BertConfig { Labels = ["a", "b"], Architecture = "BertForSequenceClassification" });
        string exported = Export(classifier, "classifier-onnx");
        CliRun.Of("fill-mask", "--model", exported, "--engine", "onnx", "A [MASK].").AssertFailsNaming("model.onnx", "no masked-LM output");
        File.WriteAllBytes(Path.Combine(exported, "model.onnx"), File.ReadAllBytes(Path.Combine(exported, "model.onnx"))[..1000]);
        CliRun.Of("predict", "classify", "--model", exported, "--engine", "onnx", "text").AssertFailsNaming("model.onnx", "ONNX Runtime cannot load it");
    }
}
