using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tasks.Classification;

/// <summary>A label and its probability, as a text-classification pipeline reports it.</summary>
public sealed record PredictedLabel(string Label, double Score);

/// <summary>
/// Text (and text-pair) classification with a <see cref="BertForSequenceClassification"/>: encoding,
/// loss, prediction and scoring. The labels are the model's id2label, saved with it.
/// </summary>
public sealed class TextClassifier : IDisposable
{
    private readonly Dictionary<string, int> _labelIds;
    private readonly BertForSequenceClassification? _model;
    private readonly OnnxRuntimeModel? _onnx;

    private TextClassifier(BertForSequenceClassification? model, OnnxRuntimeModel? onnx, BertConfig config, BertTokenizer tokenizer, int maxLength)
    {
        _model = model;
        _onnx = onnx;
        Config = config;
        Tokenizer = tokenizer;
        MaxLength = Math.Min(maxLength, config.MaxPositionEmbeddings);
        _labelIds = config.Labels.Select((label, id) => (label, id)).ToDictionary(p => p.label, p => p.id);
    }

    /// <summary>The TorchSharp model (for training); a classifier run by ONNX Runtime has none.</summary>
    public BertForSequenceClassification Model => _model ?? throw new InvalidOperationException("a classifier run by ONNX Runtime only predicts.");
    /// <summary>Its config, labels included.</summary>
    public BertConfig Config { get; }
    /// <summary>The tokenizer of the model folder.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>Longest input in tokens; longer inputs are truncated (longest first for pairs).</summary>
    public int MaxLength { get; }

    /// <summary>A new classifier for <paramref name="labels"/> on the encoder of a pretrained folder; the head starts from the current torch seed.</summary>
    public static TextClassifier FromPretrained(string directory, IReadOnlyList<string> labels, int maxLength)
    {
        var loaded = BertConfig.Load(directory);
        var config = loaded with { Labels = labels, Architecture = loaded.ClassName("ForSequenceClassification") };
        var model = new BertForSequenceClassification(config, labels.Count);
        TaskModelFolder.LoadEncoder(model, config, directory, poolerOptional: true);
        return new TextClassifier(model, null, config, HuggingFaceCheckpoint.LoadTokenizer(directory), maxLength);
    }

    /// <summary>
    /// A new classifier of <paramref name="config"/> (its labels included) with Hugging Face's random initialisation from the
    /// current torch seed, reading text with <paramref name="tokenizer"/>: a distillation student of a preset size.
    /// </summary>
    public static TextClassifier Create(BertConfig config, BertTokenizer tokenizer, int maxLength)
    {
        HuggingFaceCheckpoint.CheckVocabulary(config, tokenizer.Vocabulary, "the student");
        config = config with { Architecture = config.ClassName("ForSequenceClassification") };
        return new TextClassifier(new BertForSequenceClassification(config, config.Labels.Count), null, config, tokenizer, maxLength);
    }

    /// <summary>
    /// A fine-tuned classifier saved in <paramref name="directory"/>, truncating inputs at <paramref name="maxLength"/>
    /// or, by default, at the length it was fine-tuned at (tokenizer_config.json's model_max_length).
    /// </summary>
    public static TextClassifier Load(string directory, int? maxLength = null, InferenceEngine engine = InferenceEngine.Torch)
    {
        if (engine == InferenceEngine.Onnx)
        {
            var runtime = TaskModelFolder.LoadExported(directory, "ForSequenceClassification");
            return new TextClassifier(null, runtime, runtime.Config, runtime.Tokenizer, maxLength ?? runtime.MaxLength);
        }
        var config = TaskModelFolder.ConfigOf(directory, "ForSequenceClassification");
        var model = new BertForSequenceClassification(config, config.Labels.Count);
        TaskModelFolder.LoadAll(model, config, directory);
        model.eval();
        return new TextClassifier(model, null, config, HuggingFaceCheckpoint.LoadTokenizer(directory), maxLength ?? HuggingFaceCheckpoint.ModelMaxLength(directory, config));
    }

    /// <summary>The label set of training data in a stable order (ordinal sort), as config.json's id2label.</summary>
    public static List<string> LabelsOf(IEnumerable<ClassificationExample> examples) =>
        examples.Select(e => e.Label!).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Mean cross-entropy of a batch of labelled examples, and its tokens.</summary>
    public (Tensor Loss, long Tokens) Loss(IReadOnlyList<ClassificationExample> batch)
    {
        var (logits, tokens) = BatchLogits(batch);
        using (logits)
        using (var labels = LabelIds(batch))
            return (nn.functional.cross_entropy(logits, labels), tokens);
    }

    /// <summary>The label ids of a labelled batch [batch].</summary>
    internal Tensor LabelIds(IReadOnlyList<ClassificationExample> batch)
    {
        var ids = new long[batch.Count];
        for (int i = 0; i < batch.Count; i++)
            ids[i] = _labelIds.TryGetValue(batch[i].Label ?? "", out int id) ? id
                : throw new InvalidInputException($"label '{batch[i].Label}' is not one of the model's labels ({string.Join(", ", Config.Labels)}).");
        return tensor(ids);
    }

    /// <summary>The raw scores (logits, in <see cref="BertConfig.Labels"/> order) of every example: what a distillation student learns from.</summary>
    public List<float[]> Logits(IReadOnlyList<ClassificationExample> examples, int batchSize = 32) => Rows(examples, batchSize, softmax: false);

    /// <summary>The most probable label of every example, with its softmax probability.</summary>
    public List<PredictedLabel> Predict(IReadOnlyList<ClassificationExample> examples, int batchSize = 32) =>
        Probabilities(examples, batchSize).Select(p =>
        {
            int best = 0;
            for (int i = 1; i < p.Length; i++) if (p[i] > p[best]) best = i;
            return new PredictedLabel(Config.Labels[best], p[best]);
        }).ToList();

    /// <summary>Every label of every example with its softmax probability, most probable first (Hugging Face's top_k=None).</summary>
    public List<List<PredictedLabel>> PredictAll(IReadOnlyList<ClassificationExample> examples, int batchSize = 32) =>
        Probabilities(examples, batchSize)
            .Select(p => p.Select((score, id) => new PredictedLabel(Config.Labels[id], score)).OrderByDescending(l => l.Score).ToList())
            .ToList();

    private List<float[]> Probabilities(IReadOnlyList<ClassificationExample> examples, int batchSize) => Rows(examples, batchSize, softmax: true);

    private List<float[]> Rows(IReadOnlyList<ClassificationExample> examples, int batchSize, bool softmax)
    {
        var rows = new List<float[]>(examples.Count);
        using var _ = no_grad();
        for (int from = 0; from < examples.Count; from += batchSize)
        {
            using var scope = NewDisposeScope();
            var (logits, _) = BatchLogits(examples.Skip(from).Take(batchSize).ToList());
            var values = softmax ? logits.softmax(-1) : logits;
            float[] flat = values.data<float>().ToArray();
            int labels = (int)values.shape[1];
            for (int b = 0; b < flat.Length / labels; b++) rows.Add(flat[(b * labels)..((b + 1) * labels)]);
        }
        return rows;
    }

    /// <summary>Accuracy and macro-F1 on labelled examples.</summary>
    public ClassificationMetrics Evaluate(IReadOnlyList<ClassificationExample> examples, int batchSize = 32) =>
        ClassificationMetrics.Of(examples.Select(e => e.Label!).ToList(), Predict(examples, batchSize).Select(p => p.Label).ToList());

    /// <summary>Writes the model folder (config.json with id2label, vocab.txt, tokenizer_config.json, model.safetensors).</summary>
    public void Save(string directory) => HuggingFaceCheckpoint.Save(Model, Config, Tokenizer.Vocabulary, directory, Tokenizer.Lowercase, modelMaxLength: MaxLength);

    /// <summary>Logits [batch, labels] of a batch, and its tokens.</summary>
    internal (Tensor Logits, long Tokens) BatchLogits(IReadOnlyList<ClassificationExample> batch)
    {
        var encodings = batch.Select(e => e.TextPair is null ? Tokenizer.Encode(e.Text, MaxLength) : Tokenizer.Encode(e.Text, e.TextPair, MaxLength)).ToList();
        using var inputs = new EncodedBatch(encodings, Tokenizer.Vocabulary);
        var logits = _onnx is null ? Model.call(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask) : _onnx.Run(inputs, "logits")[0];
        return (logits, encodings.Sum(e => (long)e.Length));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _model?.Dispose();
        _onnx?.Dispose();
    }
}
