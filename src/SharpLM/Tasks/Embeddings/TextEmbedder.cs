using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tasks.Embeddings;

/// <summary>
/// Sentence embeddings from any model folder SharpLM loads (its encoder's last hidden state, pooled), run by
/// TorchSharp or, for an exported folder, by ONNX Runtime. Calls are serialised: one instance may be shared
/// between threads.
/// </summary>
public sealed class TextEmbedder : IDisposable, IMixedPrecision
{
    private readonly BertModel? _model;
    private readonly OnnxRuntimeModel? _onnx;
    private readonly Lock _lock = new();

    private TextEmbedder(BertModel? model, OnnxRuntimeModel? onnx, BertConfig config, BertTokenizer tokenizer, string directory, CheckpointLoadReport? report)
    {
        _model = model;
        _onnx = onnx;
        Config = config;
        Tokenizer = tokenizer;
        Directory = directory;
        LoadReport = report;
    }

    /// <summary>
    /// The dtype the model's matrix products run in: null (float32, the default) or bfloat16, about 1.3x (one text) to
    /// 1.7x (batches) the speed on CPUs with AVX-512 BF16 (see <see cref="MixedPrecision"/>). TorchSharp only.
    /// </summary>
    public ScalarType? ComputeType
    {
        get => _computeType;
        set => _computeType = MixedPrecision.SetForInference(_model, _lock, value);
    }
    private ScalarType? _computeType;

    /// <summary>The model's config.</summary>
    public BertConfig Config { get; }
    /// <summary>The tokenizer of the model folder.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>The folder the model came from.</summary>
    public string Directory { get; }
    /// <summary>Longest input in tokens, [CLS] and [SEP] included (the model's positions).</summary>
    public int MaxLength => Config.MaxPositionEmbeddings;
    /// <summary>Length of every embedding (the hidden size).</summary>
    public int Dimensions => Config.HiddenSize;
    /// <summary>What loading the weights found (unused and missing names); null for ONNX Runtime.</summary>
    public CheckpointLoadReport? LoadReport { get; }

    /// <summary>
    /// The encoder of <paramref name="directory"/>: any SharpLM or Hugging Face BERT or ELECTRA folder (a pretraining,
    /// masked-LM or task model loads its encoder alone), or with <see cref="InferenceEngine.Onnx"/> a folder written by the ONNX export.
    /// </summary>
    /// <exception cref="InvalidInputException">The folder is not a model, or its checkpoint lacks encoder weights.</exception>
    public static TextEmbedder Load(string directory, InferenceEngine engine = InferenceEngine.Torch)
    {
        if (engine == InferenceEngine.Onnx)
        {
            var runtime = OnnxRuntimeModel.Load(directory);
            return new TextEmbedder(null, runtime, runtime.Config, runtime.Tokenizer, runtime.Directory, null);
        }
        var config = BertConfig.Load(directory);
        var bert = new BertModel(config);
        try
        {
            var report = HuggingFaceCheckpoint.LoadDirectory(bert, config, directory);
            var encoderMissing = report.Missing.Where(n => !n.StartsWith("pooler.", StringComparison.Ordinal)).ToList();
            if (encoderMissing.Count > 0)
                throw new InvalidInputException($"{directory}: the checkpoint lacks {encoderMissing.Count} encoder weights (first: {encoderMissing[0]}).");
            bert.eval();
            return new TextEmbedder(bert, null, config, HuggingFaceCheckpoint.LoadTokenizer(directory), directory, report);
        }
        catch
        {
            bert.Dispose();
            throw;
        }
    }

    /// <summary>The number of tokens <paramref name="text"/> encodes to, [CLS] and [SEP] included, before any truncation.</summary>
    public int CountTokens(string text) => Tokenizer.Encode(text).Length;

    /// <summary>
    /// One vector per text, in order. Texts longer than <paramref name="maxLength"/> tokens (default: the model's
    /// positions) are truncated. With <paramref name="normalize"/>, each vector has unit L2 norm (sentence-transformers'
    /// Normalize), so that a dot product is the cosine.
    /// </summary>
    public float[][] Embed(IReadOnlyList<string> texts, EmbeddingPooling pooling = EmbeddingPooling.Mean, bool normalize = false, int? maxLength = null, int batchSize = 32)
    {
        int limit = CheckLength(maxLength);
        var vectors = new float[texts.Count][];
        for (int from = 0; from < texts.Count; from += batchSize)
        {
            var encodings = texts.Skip(from).Take(batchSize).Select(t => Tokenizer.Encode(t, limit)).ToList();
            var pooled = Run(encodings, hidden => Pool(hidden, encodings, pooling, normalize));
            pooled.CopyTo(vectors, from);
        }
        return vectors;
    }

    /// <summary>Every token's last hidden state of each text (truncated at <paramref name="maxLength"/>), with the encodings.</summary>
    public List<(EncodedText Encoding, float[][] States)> TokenStates(IReadOnlyList<string> texts, int? maxLength = null, int batchSize = 32)
    {
        int limit = CheckLength(maxLength);
        var result = new List<(EncodedText, float[][])>(texts.Count);
        for (int from = 0; from < texts.Count; from += batchSize)
        {
            var encodings = texts.Skip(from).Take(batchSize).Select(t => Tokenizer.Encode(t, limit)).ToList();
            var states = Run(encodings, hidden => encodings.Select((e, b) =>
                Enumerable.Range(0, e.Length).Select(t => hidden[b, t].data<float>().ToArray()).ToArray()).ToArray());
            for (int i = 0; i < encodings.Count; i++) result.Add((encodings[i], states[i]));
        }
        return result;
    }

    private int CheckLength(int? maxLength)
    {
        int limit = maxLength ?? MaxLength;
        if (limit < 2 || limit > MaxLength)
            throw new InvalidInputException($"max length {limit}: must be between 2 and max_position_embeddings ({MaxLength}).");
        return limit;
    }

    private T Run<T>(List<EncodedText> encodings, Func<Tensor, T> read)
    {
        lock (_lock)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var batch = new EncodedBatch(encodings, Tokenizer.Vocabulary);
            var hidden = _onnx is not null
                ? _onnx.Run(batch, "last_hidden_state")[0]
                : _model!.call(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask).LastHiddenState;
            return read(hidden);
        }
    }

    // One masked sum over the whole batch rather than a few small tensor calls per text: under a server's load the
    // per-call overhead of TorchSharp adds up.
    private static float[][] Pool(Tensor hidden, List<EncodedText> encodings, EmbeddingPooling pooling, bool normalize)
    {
        Tensor vectors;
        if (pooling == EmbeddingPooling.Cls) vectors = hidden.select(1, 0);
        else
        {
            long length = hidden.shape[1];
            var lengths = encodings.Select(e => (long)e.Length).ToArray();
            using var counts = tensor(lengths, dtype: hidden.dtype).unsqueeze(1);
            using var positions = arange(length).unsqueeze(0);
            using var mask = positions.lt(tensor(lengths).unsqueeze(1)).unsqueeze(2).to(hidden.dtype);
            vectors = (hidden * mask).sum(1) / counts;
        }
        // sentence-transformers' Normalize: x / max(||x||, 1e-12).
        if (normalize) vectors = vectors / vectors.norm(1, keepdim: true).clamp_min(1e-12);
        float[] flat = vectors.contiguous().data<float>().ToArray();
        int width = (int)vectors.shape[1];
        return Enumerable.Range(0, encodings.Count).Select(b => flat[(b * width)..((b + 1) * width)]).ToArray();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _model?.Dispose();
        _onnx?.Dispose();
    }
}
