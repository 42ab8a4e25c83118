using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf;
using SharpLM.Model;
using SharpLM.Tasks.TokenClassification;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Interop.Onnx;

/// <summary>What an export wrote: the ONNX file, its head and outputs, and the files beside it.</summary>
public sealed record OnnxExportResult(string OnnxFile, OnnxHead Head, string Architecture, IReadOnlyList<string> Outputs, IReadOnlyList<string> FilesBeside, long Bytes);

/// <summary>
/// <c>sharplm export onnx</c>: any model folder SharpLM loads (pretraining, bare encoder, classifier,
/// tagger, QA, ELECTRA discriminator or generator) written as one ONNX file that ONNX Runtime runs, with
/// inputs input_ids, attention_mask and token_type_ids (int64, dynamic batch_size and
/// sequence_length), and config.json, vocab.txt, tokenizer_config.json and tokenizer.json beside it so
/// the folder stands alone. A CRF tagger's transition scores go to crf.json beside it: the ONNX file
/// gives the emissions, and decoding is Viterbi over those scores.
/// </summary>
public static class OnnxExport
{
    /// <summary>The file name SharpLM looks for first in an exported folder.</summary>
    public const string ModelFile = "model.onnx";

    /// <summary>The CRF's decoding scores beside an exported tagger.</summary>
    public const string CrfFile = "crf.json";

    /// <summary>The opset written by default: 17, the first with a standard LayerNormalization.</summary>
    public const int DefaultOpset = 17;

    /// <summary>Exports <paramref name="modelDirectory"/> to <paramref name="onnxFile"/> (atomically), and the tokenizer, config and CRF files beside it.</summary>
    /// <exception cref="InvalidInputException">The folder is not a model SharpLM loads, or the opset is outside 17..21.</exception>
    public static OnnxExportResult Export(string modelDirectory, string onnxFile, OnnxQuantization quantization = OnnxQuantization.None, int opset = DefaultOpset)
    {
        if (opset is < 17 or > 21) throw new InvalidInputException($"--opset {opset}: SharpLM writes opsets 17 to 21 (17 is the first with LayerNormalization).");
        var config = BertConfig.Load(modelDirectory);
        string target = TargetFile(onnxFile);
        string folder = Path.GetDirectoryName(target)!;
        bool sameFolder = Path.GetFullPath(modelDirectory).TrimEnd('/') == folder.TrimEnd('/');
        if (!sameFolder && (File.Exists(Path.Combine(folder, HuggingFaceCheckpoint.WeightsFile)) || File.Exists(Path.Combine(folder, HuggingFaceCheckpoint.PyTorchWeightsFile))))
            throw new InvalidInputException($"{folder}: the folder holds another model's weights, whose config.json and vocab.txt the export would replace; export into a folder of its own (or into the model's own folder).");

        var (module, head, architecture, report) = LoadModel(modelDirectory, config);
        using var _module = module;
        CheckComplete(modelDirectory, config, head, report);
        var missing = report.Missing.ToHashSet(StringComparer.Ordinal);
        var weights = module.named_parameters().Where(p => !missing.Contains(p.name)).ToDictionary(p => p.name, p => (Tensor)p.parameter);
        string prefix = module is BertModel ? "" : config.EncoderName + ".";
        bool nextSentence = weights.ContainsKey("cls.seq_relationship.weight");
        var model = BertOnnxGraph.Build(config, weights, prefix, head, nextSentence, quantization, opset,
            typeof(BertModel).Assembly.GetName().Version?.ToString(3) ?? "0");

        Directory.CreateDirectory(folder);
        byte[] bytes = model.ToByteArray();
        AtomicFile.Write(target, stream => stream.Write(bytes));

        var beside = new List<string>();
        var tokenizer = HuggingFaceCheckpoint.LoadTokenizer(modelDirectory);
        if (!sameFolder)
        {
            // The source folder's own files stay untouched when the ONNX file goes into it.
            (config with { Architecture = architecture }).Save(Path.Combine(folder, "config.json"));
            HuggingFaceCheckpoint.SaveTokenizer(tokenizer.Vocabulary, tokenizer.Lowercase, HuggingFaceCheckpoint.ModelMaxLength(modelDirectory, config), folder);
            beside.AddRange(["config.json", "vocab.txt", "tokenizer_config.json"]);
        }
        TokenizerJson.Save(tokenizer.Vocabulary, tokenizer.Lowercase, Path.Combine(folder, "tokenizer.json"));
        beside.Add("tokenizer.json");
        if (module is BertForTokenClassification { Crf: { } crf })
        {
            WriteCrf(crf, config.Labels, Path.Combine(folder, CrfFile));
            beside.Add(CrfFile);
        }
        var outputs = model.Graph.Output.Select(o => o.Name).ToList();
        return new OnnxExportResult(target, head, architecture, outputs, beside, bytes.Length);
    }

    /// <summary>The file to write: <paramref name="output"/> when it names a .onnx file, else model.onnx in the folder it names (as Optimum takes a folder).</summary>
    public static string TargetFile(string output) => Path.GetFullPath(
        output.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) && !Directory.Exists(output) ? output : Path.Combine(output, ModelFile));

    /// <summary>The head a folder's model has: its config's architectures, or for a pretraining config, the heads its weights hold.</summary>
    public static OnnxHead HeadOf(BertConfig config, IReadOnlySet<string> weightNames)
    {
        string architecture = config.Architecture ?? "";
        if (architecture.EndsWith("ForSequenceClassification", StringComparison.Ordinal)) return OnnxHead.SequenceClassification;
        if (architecture.EndsWith("ForTokenClassification", StringComparison.Ordinal)) return OnnxHead.TokenClassification;
        if (architecture.EndsWith("ForQuestionAnswering", StringComparison.Ordinal)) return OnnxHead.QuestionAnswering;
        if (architecture.EndsWith("ForMaskedLM", StringComparison.Ordinal)) return OnnxHead.MaskedLm;
        if (architecture is "BertModel" or "ElectraModel") return OnnxHead.Encoder;
        if (config.IsElectra)
            return weightNames.Contains("discriminator_predictions.dense.weight") ? OnnxHead.ReplacedTokenDetection
                : weightNames.Contains("generator_lm_head.bias") ? OnnxHead.MaskedLm : OnnxHead.Encoder;
        if (!weightNames.Contains("cls.predictions.bias")) return OnnxHead.Encoder;
        return weightNames.Contains("cls.seq_relationship.weight") ? OnnxHead.PreTraining : OnnxHead.MaskedLm;
    }

    // The folder's weights are read once: their names decide the head, then they fill the module made for it.
    private static (nn.Module Module, OnnxHead Head, string Architecture, CheckpointLoadReport Report) LoadModel(string directory, BertConfig config)
    {
        var weights = HuggingFaceCheckpoint.ReadWeights(directory);
        try
        {
            var head = HeadOf(config, weights.Keys.ToHashSet(StringComparer.Ordinal));
            string architecture = ArchitectureOf(config, head);
            var module = Create(config with { Architecture = architecture }, head);
            try { return (module, head, architecture, HuggingFaceCheckpoint.LoadDirectory(module, config, directory, weights)); }
            catch
            {
                module.Dispose();
                throw;
            }
        }
        finally { foreach (var tensor in weights.Values) tensor.Dispose(); }
    }

    private static string ArchitectureOf(BertConfig config, OnnxHead head) => head switch
    {
        OnnxHead.Encoder => config.ClassName("Model"),
        OnnxHead.PreTraining => "BertForPreTraining",
        OnnxHead.MaskedLm => config.ClassName("ForMaskedLM"),
        OnnxHead.ReplacedTokenDetection => "ElectraForPreTraining",
        OnnxHead.SequenceClassification => config.ClassName("ForSequenceClassification"),
        OnnxHead.TokenClassification => config.ClassName("ForTokenClassification"),
        _ => config.ClassName("ForQuestionAnswering"),
    };

    private static nn.Module Create(BertConfig config, OnnxHead head) => head switch
    {
        OnnxHead.Encoder => new BertModel(config),
        OnnxHead.PreTraining or OnnxHead.MaskedLm => config.IsElectra ? new ElectraForMaskedLM(config) : new BertForPreTraining(config),
        OnnxHead.ReplacedTokenDetection => new ElectraForPreTraining(config),
        OnnxHead.SequenceClassification => new BertForSequenceClassification(config, RequireLabels(config)),
        OnnxHead.TokenClassification => new BertForTokenClassification(config with { Labels = config.Labels.Count > 0 ? config.Labels : throw NoLabels(config) }),
        _ => new BertForQuestionAnswering(config),
    };

    private static int RequireLabels(BertConfig config) => config.Labels.Count > 0 ? config.Labels.Count : throw NoLabels(config);

    private static InvalidInputException NoLabels(BertConfig config) => new($"config.json: a {config.Architecture} needs its labels (id2label).");

    // Every encoder weight but the pooler, and every head weight, must come from the folder.
    private static void CheckComplete(string directory, BertConfig config, OnnxHead head, CheckpointLoadReport report)
    {
        bool Optional(string name) => name.Contains("pooler.", StringComparison.Ordinal) && head is not OnnxHead.SequenceClassification
            || head is OnnxHead.PreTraining or OnnxHead.MaskedLm && name.StartsWith("cls.seq_relationship.", StringComparison.Ordinal);
        var missing = report.Missing.Where(n => !Optional(n)).ToList();
        if (missing.Count > 0)
            throw new InvalidInputException($"{directory}: the checkpoint lacks {missing.Count} weights of its {config.ModelType} model (first: {missing[0]}).");
    }

    private static void WriteCrf(ConditionalRandomField crf, IReadOnlyList<string> labels, string path)
    {
        var (start, end, transitions) = crf.DecodingScores();
        var json = new JsonObject
        {
            ["comment"] = "Viterbi scores of the CRF over the ONNX logits at each word's first sub-word: a path y scores start_transitions[y0] + sum of logits + sum of transitions[y(t-1)][y(t)] + end_transitions[y(last)]; -10000 marks transitions the tag scheme forbids.",
            ["labels"] = new JsonArray(labels.Select(l => (JsonNode)l!).ToArray()),
            ["start_transitions"] = new JsonArray(start.Select(v => (JsonNode)v).ToArray()),
            ["end_transitions"] = new JsonArray(end.Select(v => (JsonNode)v).ToArray()),
            ["transitions"] = new JsonArray(transitions.Select(row => (JsonNode)new JsonArray(row.Select(v => (JsonNode)v).ToArray())).ToArray()),
        };
        AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>Reads crf.json into a CRF for <paramref name="labels"/>.</summary>
    public static ConditionalRandomField ReadCrf(string path, IReadOnlyList<string> labels)
    {
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidInputException($"{path}: not a JSON object.");
            float[] Row(JsonNode? node) => node?.AsArray().Select(v => v!.GetValue<float>()).ToArray() ?? throw new InvalidInputException($"{path}: a score list is missing.");
            var saved = json["labels"]?.AsArray().Select(l => l!.GetValue<string>()).ToList() ?? [];
            if (!saved.SequenceEqual(labels)) throw new InvalidInputException($"{path}: its labels ({string.Join(", ", saved)}) are not the model's ({string.Join(", ", labels)}).");
            var crf = new ConditionalRandomField(labels);
            crf.LoadDecodingScores(Row(json["start_transitions"]), Row(json["end_transitions"]),
                json["transitions"]?.AsArray().Select(Row).ToArray() ?? throw new InvalidInputException($"{path}: transitions are missing."));
            return crf;
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{path}: not a CRF score file ({e.Message}).");
        }
    }
}
