using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tasks.QuestionAnswering;

/// <summary>
/// Extractive question answering with a <see cref="BertForQuestionAnswering"/>: questions become
/// windows over their context (<see cref="QuestionWindow"/>), the model scores each token as the
/// answer's start and end, and <see cref="AnswerSpanSearch"/> turns the scores of all windows of a
/// question into one answer with character offsets.
/// </summary>
public sealed class QuestionAnswerer : IDisposable
{
    private readonly BertForQuestionAnswering? _model;
    private readonly OnnxRuntimeModel? _onnx;

    private QuestionAnswerer(BertForQuestionAnswering? model, OnnxRuntimeModel? onnx, BertConfig config, BertTokenizer tokenizer, int maxLength, int docStride)
    {
        _model = model;
        _onnx = onnx;
        Config = config;
        Tokenizer = tokenizer;
        MaxLength = Math.Min(maxLength, config.MaxPositionEmbeddings);
        // As Hugging Face's pipeline: a model with short positions gets a stride of at most half a window.
        DocStride = Math.Min(docStride, MaxLength / 2);
    }

    /// <summary>The TorchSharp model (for training); a model run by ONNX Runtime has none.</summary>
    public BertForQuestionAnswering Model => _model ?? throw new InvalidOperationException("a QA model run by ONNX Runtime only predicts.");
    /// <summary>Its config.</summary>
    public BertConfig Config { get; }
    /// <summary>The tokenizer of the model folder.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>Tokens per window (at most the model's max_position_embeddings).</summary>
    public int MaxLength { get; }
    /// <summary>Context tokens shared by consecutive windows (at most half a window).</summary>
    public int DocStride { get; }

    /// <summary>A new QA model on the encoder of a pretrained folder.</summary>
    public static QuestionAnswerer FromPretrained(string directory, int maxLength = 384, int docStride = 128)
    {
        var loaded = BertConfig.Load(directory);
        var config = loaded with { Architecture = loaded.ClassName("ForQuestionAnswering"), Labels = [] };
        var model = new BertForQuestionAnswering(config);
        TaskModelFolder.LoadEncoder(model, config, directory);
        return new QuestionAnswerer(model, null, config, HuggingFaceCheckpoint.LoadTokenizer(directory), maxLength, docStride);
    }

    /// <summary>A fine-tuned QA model saved in <paramref name="directory"/>, or exported there to ONNX.</summary>
    public static QuestionAnswerer Load(string directory, int maxLength = 384, int docStride = 128, InferenceEngine engine = InferenceEngine.Torch)
    {
        if (engine == InferenceEngine.Onnx)
        {
            var runtime = TaskModelFolder.LoadExported(directory, "ForQuestionAnswering");
            return new QuestionAnswerer(null, runtime, runtime.Config, runtime.Tokenizer, maxLength, docStride);
        }
        var config = TaskModelFolder.ConfigOf(directory, "ForQuestionAnswering");
        var model = new BertForQuestionAnswering(config);
        TaskModelFolder.LoadAll(model, config, directory);
        model.eval();
        return new QuestionAnswerer(model, null, config, HuggingFaceCheckpoint.LoadTokenizer(directory), maxLength, docStride);
    }

    /// <summary>The windows of <paramref name="questions"/> at this model's length and stride.</summary>
    public List<QuestionWindow> Windows(IReadOnlyList<SquadQuestion> questions) => QuestionWindow.Of(questions, Tokenizer, MaxLength, DocStride);

    /// <summary>Mean of the start and end cross-entropies of a batch of windows, and its tokens.</summary>
    public (Tensor Loss, long Tokens) Loss(IReadOnlyList<QuestionWindow> batch)
    {
        using var scope = NewDisposeScope();
        var (start, end) = Logits(batch);
        var startLabels = tensor(batch.Select(w => (long)w.StartPosition).ToArray());
        var endLabels = tensor(batch.Select(w => (long)w.EndPosition).ToArray());
        var loss = (nn.functional.cross_entropy(start, startLabels) + nn.functional.cross_entropy(end, endLabels)) / 2;
        return (loss.MoveToOuterDisposeScope(), batch.Sum(w => (long)w.Encoding.Length));
    }

    /// <summary>The answer to every question (empty text for no answer when <paramref name="search"/> allows it).</summary>
    public List<PredictedAnswer> Predict(IReadOnlyList<SquadQuestion> questions, AnswerSpanSearch search, int batchSize = 32) =>
        Candidates(questions, search, batchSize).Select(search.Decide).ToList();

    /// <summary>Every question's best span before the no-answer decision, with the null score's margin over it.</summary>
    public List<SpanCandidate> Candidates(IReadOnlyList<SquadQuestion> questions, AnswerSpanSearch search, int batchSize = 32)
    {
        var windows = Windows(questions);
        var startLogits = new List<float[]>(windows.Count);
        var endLogits = new List<float[]>(windows.Count);
        using (no_grad())
        {
            for (int from = 0; from < windows.Count; from += batchSize)
            {
                using var scope = NewDisposeScope();
                var batch = windows.Skip(from).Take(batchSize).ToList();
                var (start, end) = Logits(batch);
                for (int b = 0; b < batch.Count; b++)
                {
                    int length = batch[b].Encoding.Length;
                    startLogits.Add(start[b].data<float>().Take(length).ToArray());
                    endLogits.Add(end[b].data<float>().Take(length).ToArray());
                }
            }
        }
        var candidates = new List<SpanCandidate>(questions.Count);
        int next = 0;
        for (int q = 0; q < questions.Count; q++)
        {
            int first = next;
            while (next < windows.Count && windows[next].Question == q) next++;
            candidates.Add(search.Candidate(questions[q], windows[first..next], startLogits[first..next], endLogits[first..next]));
        }
        return candidates;
    }

    /// <summary>
    /// Exact match and F1 (SQuAD's official normalisation) at the search's threshold; for SQuAD 2.0 data,
    /// also the best F1 over all no-answer thresholds and that threshold, as the official script reports
    /// them (tune it on dev, then pass it to predict and evaluate on test).
    /// </summary>
    public SquadMetrics Evaluate(IReadOnlyList<SquadQuestion> questions, AnswerSpanSearch search, int batchSize = 32)
    {
        var candidates = Candidates(questions, search, batchSize);
        var metrics = SquadMetrics.Of(questions, questions.Select((q, i) => (q.Id, search.Decide(candidates[i]).Text)).ToDictionary(p => p.Id, p => p.Text));
        if (!search.AllowNoAnswer) return metrics;
        var (bestF1, threshold) = SquadMetrics.BestNullThreshold(questions, candidates);
        return metrics with { BestF1 = bestF1, BestF1Threshold = threshold };
    }

    /// <summary>Writes the model folder.</summary>
    public void Save(string directory) => HuggingFaceCheckpoint.Save(Model, Config, Tokenizer.Vocabulary, directory, Tokenizer.Lowercase, modelMaxLength: MaxLength);

    private (Tensor Start, Tensor End) Logits(IReadOnlyList<QuestionWindow> batch)
    {
        using var inputs = new EncodedBatch(batch.Select(w => w.Encoding).ToList(), Tokenizer.Vocabulary);
        var (start, end) = _onnx is null ? Model.call(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask) : Pair(_onnx.Run(inputs, "start_logits", "end_logits"));
        // Padding never starts or ends an answer.
        using var padding = inputs.AttentionMask.eq(0);
        using (start)
        using (end)
            return (start.masked_fill(padding, float.MinValue / 2), end.masked_fill(padding, float.MinValue / 2));
    }

    private static (Tensor, Tensor) Pair(Tensor[] outputs) => (outputs[0], outputs[1]);

    /// <inheritdoc/>
    public void Dispose()
    {
        _model?.Dispose();
        _onnx?.Dispose();
    }
}
