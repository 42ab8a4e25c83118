using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tasks.FillMask;

/// <summary>One candidate for a mask, with the fields of Hugging Face's fill-mask pipeline.</summary>
/// <param name="Token">The token's id.</param>
/// <param name="TokenStr">The token as the vocabulary spells it.</param>
/// <param name="Score">Its probability at the mask (softmax over the vocabulary).</param>
/// <param name="Sequence">The text decoded with this token in the mask's place.</param>
public sealed record FilledToken(long Token, string TokenStr, double Score, string Sequence);

/// <summary>The candidates for one [MASK] of a text.</summary>
/// <param name="Mask">Which mask of the text (0 for the first).</param>
/// <param name="Position">Its token position in the encoded text ([CLS] is 0).</param>
/// <param name="Predictions">The most probable tokens, best first.</param>
public sealed record MaskPrediction(int Mask, int Position, IReadOnlyList<FilledToken> Predictions);

/// <summary>
/// Fill-mask with a masked language model: a BERT with its pretraining heads, a BertForMaskedLM, an ELECTRA generator,
/// or their ONNX exports. Calls are serialised: one instance may be shared between threads.
/// </summary>
public sealed class MaskFiller : IDisposable, IMixedPrecision
{
    private readonly nn.Module? _module;
    private readonly IMaskedLanguageModel? _model;
    private readonly OnnxRuntimeModel? _onnx;
    private readonly string? _logitsOutput;
    private readonly Lock _lock = new();

    private MaskFiller(nn.Module? module, IMaskedLanguageModel? model, OnnxRuntimeModel? onnx, string? logitsOutput, BertConfig config, BertTokenizer tokenizer, CheckpointLoadReport? report)
    {
        _module = module;
        _model = model;
        _onnx = onnx;
        _logitsOutput = logitsOutput;
        Config = config;
        Tokenizer = tokenizer;
        LoadReport = report;
    }

    /// <summary>
    /// The dtype the model's matrix products run in: null (float32, the default) or bfloat16, about 1.3x (one text) to
    /// 1.7x (batches) the speed on CPUs with AVX-512 BF16 (see <see cref="MixedPrecision"/>). TorchSharp only.
    /// </summary>
    public ScalarType? ComputeType
    {
        get => _computeType;
        set => _computeType = MixedPrecision.SetForInference(_module, _lock, value);
    }
    private ScalarType? _computeType;

    /// <summary>The model's config.</summary>
    public BertConfig Config { get; }
    /// <summary>The tokenizer of the model folder.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>Longest input in tokens (the model's positions).</summary>
    public int MaxLength => Config.MaxPositionEmbeddings;
    /// <summary>What loading the weights found; null for ONNX Runtime.</summary>
    public CheckpointLoadReport? LoadReport { get; }

    /// <summary>The masked LM of <paramref name="directory"/>, or with <see cref="InferenceEngine.Onnx"/> its export.</summary>
    /// <exception cref="InvalidInputException">The folder has no masked-LM head, or its vocabulary no [MASK].</exception>
    public static MaskFiller Load(string directory, InferenceEngine engine = InferenceEngine.Torch)
    {
        MaskFiller filler;
        if (engine == InferenceEngine.Onnx)
        {
            var runtime = OnnxRuntimeModel.Load(directory);
            string output = runtime.HasOutput("prediction_logits") ? "prediction_logits"
                : runtime.Config.Architecture is "BertForMaskedLM" or "ElectraForMaskedLM" ? "logits"
                : Refuse(runtime);
            filler = new MaskFiller(null, null, runtime, output, runtime.Config, runtime.Tokenizer, null);
        }
        else
        {
            var (module, model, report) = MaskedLanguageModelFolder.Load(directory);
            filler = new MaskFiller(module, model, null, null, model.Config, HuggingFaceCheckpoint.LoadTokenizer(directory), report);
        }
        if (filler.Tokenizer.Vocabulary.MaskId < 0)
        {
            filler.Dispose();
            throw new InvalidInputException($"{directory}: vocab.txt has no [MASK] token.");
        }
        return filler;

        static string Refuse(OnnxRuntimeModel runtime)
        {
            runtime.Dispose();
            throw new InvalidInputException($"{runtime.File}: an exported {runtime.Config.Architecture} has no masked-LM output; export a BertForPreTraining, BertForMaskedLM or ElectraForMaskedLM folder.");
        }
    }

    /// <summary>The number of tokens <paramref name="text"/> encodes to, [CLS] and [SEP] included, before any truncation.</summary>
    public int CountTokens(string text) => Tokenizer.Encode(text).Length;

    /// <summary>
    /// The <paramref name="topK"/> most probable tokens for every [MASK] of each text, texts in order. Texts are truncated at
    /// the model's positions.
    /// </summary>
    /// <exception cref="InvalidInputException">A text has no [MASK] (or loses them all to truncation), or <paramref name="topK"/> is out of range.</exception>
    public List<IReadOnlyList<MaskPrediction>> Fill(IReadOnlyList<string> texts, int topK = 5, int batchSize = 32)
    {
        if (topK < 1 || topK > Config.VocabSize) throw new InvalidInputException($"top-k {topK}: must be between 1 and the vocabulary size {Config.VocabSize}.");
        var encodings = texts.Select(t => Tokenizer.Encode(t, maxLength: MaxLength)).ToList();
        var masks = encodings.Select((e, i) =>
        {
            var positions = Enumerable.Range(0, e.Length).Where(p => e.Ids[p] == Tokenizer.Vocabulary.MaskId).ToList();
            return positions.Count > 0 ? positions
                : throw new InvalidInputException($"fill-mask: {(texts.Count > 1 ? $"text {i + 1}" : "the text")} has no [MASK] token (type it as [MASK], in capitals).");
        }).ToList();
        var results = new List<IReadOnlyList<MaskPrediction>>(texts.Count);
        for (int from = 0; from < texts.Count; from += batchSize)
        {
            int count = Math.Min(batchSize, texts.Count - from);
            results.AddRange(FillBatch(encodings.GetRange(from, count), masks.GetRange(from, count), topK));
        }
        return results;
    }

    private List<IReadOnlyList<MaskPrediction>> FillBatch(List<EncodedText> encodings, List<List<int>> masks, int topK)
    {
        float[] scores;
        long[] ids;
        lock (_lock)
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var batch = new EncodedBatch(encodings, Tokenizer.Vocabulary);
            long length = batch.InputIds.shape[1];
            // Row r of the logits is the r-th mask of the batch, in text order: positions index the flattened [batch x length].
            using var flat = tensor(masks.SelectMany((positions, b) => positions.Select(p => b * length + p)).ToArray());
            var logits = _onnx is null
                ? _model!.MaskedLmLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, flat)
                : _onnx.Run(batch, _logitsOutput!)[0].flatten(0, 1).index_select(0, flat);
            var (values, indices) = logits.softmax(-1).topk(topK);
            scores = values.data<float>().ToArray();
            ids = indices.data<long>().ToArray();
        }
        var results = new List<IReadOnlyList<MaskPrediction>>(encodings.Count);
        int row = 0;
        for (int b = 0; b < encodings.Count; b++)
        {
            var predictions = new List<MaskPrediction>(masks[b].Count);
            for (int m = 0; m < masks[b].Count; m++, row++)
            {
                var tokens = new FilledToken[topK];
                for (int k = 0; k < topK; k++)
                {
                    long id = ids[row * topK + k];
                    var filled = (int[])encodings[b].Ids.Clone();
                    filled[masks[b][m]] = (int)id;
                    tokens[k] = new FilledToken(id, Tokenizer.Vocabulary[(int)id], ShortestDouble(scores[row * topK + k]), Tokenizer.Decode(filled));
                }
                predictions.Add(new MaskPrediction(m, masks[b][m], tokens));
            }
            results.Add(predictions);
        }
        return results;
    }

    // The double that prints as the float's shortest round-trip text (0.25, not 0.25000000372529), for JSON.
    private static double ShortestDouble(float value) =>
        double.Parse(value.ToString("R", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);

    /// <inheritdoc/>
    public void Dispose()
    {
        _module?.Dispose();
        _onnx?.Dispose();
    }
}
