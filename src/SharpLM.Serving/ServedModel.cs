using System.Collections.Concurrent;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.Embeddings;
using SharpLM.Tasks.FillMask;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Serving;

/// <summary>
/// A model folder loaded for serving: its encoder for /embed (every model), the pipeline of its task, and one
/// <see cref="DynamicBatcher"/> through which every call to them goes.
/// </summary>
public sealed class ServedModel : IDisposable
{
    private readonly TextEmbedder _embedder;
    private readonly MaskFiller? _filler;
    private readonly TextClassifier? _classifier;
    private readonly TokenTagger? _tagger;
    private readonly QuestionAnswerer? _answerer;
    private readonly DynamicBatcher _batcher;
    private readonly ConcurrentDictionary<(EmbeddingPooling, bool), BatchOperation<string, float[]>> _embed = new();
    private readonly ConcurrentDictionary<int, BatchOperation<string, IReadOnlyList<MaskPrediction>>> _fill = new();
    private readonly BatchOperation<string, List<PredictedLabel>>? _classify;
    private readonly BatchOperation<string, List<PredictedEntity>>? _ner;
    private readonly BatchOperation<SquadQuestion, PredictedAnswer>? _qa;

    private ServedModel(string name, string directory, InferenceEngine engine, TextEmbedder embedder, ModelTask task, int maxBatchTokens, TimeSpan window, ScalarType? computeType)
    {
        Name = name;
        Directory = directory;
        Engine = engine;
        _embedder = embedder;
        Task = task;
        try
        {
            switch (task)
            {
                case ModelTask.FillMask:
                    // SharpLM saves a bare encoder's config as BertForPreTraining too: only the weights tell whether it has a head.
                    if (engine == InferenceEngine.Torch && !embedder.LoadReport!.Unexpected.Any(n => n.StartsWith("cls.predictions.", StringComparison.Ordinal) || n.StartsWith("generator_", StringComparison.Ordinal)))
                        Task = ModelTask.Embed;
                    else _filler = MaskFiller.Load(directory, engine);
                    break;
                case ModelTask.Classify:
                    _classifier = TextClassifier.Load(directory, engine: engine);
                    _classify = new(texts => _classifier.PredictAll(texts.Select(t => new ClassificationExample(t, null, null)).ToList()));
                    break;
                case ModelTask.Ner:
                    _tagger = TokenTagger.Load(directory, engine: engine);
                    _ner = new(texts => _tagger.PredictTexts(texts));
                    break;
                case ModelTask.QuestionAnswering:
                    _answerer = QuestionAnswerer.Load(directory, engine: engine);
                    _qa = new(questions => _answerer.Predict(questions, new AnswerSpanSearch()));
                    break;
            }
        }
        catch
        {
            _embedder.Dispose();
            throw;
        }
        if (computeType is not null)
        {
            _embedder.ComputeType = computeType;
            if (_filler is not null) _filler.ComputeType = computeType;
            foreach (var module in new nn.Module?[] { _classifier?.Model, _tagger?.Model, _answerer?.Model })
                if (module is not null) MixedPrecision.Apply(module, computeType);
        }
        ComputeType = computeType;
        Warm(maxBatchTokens);
        _batcher = new DynamicBatcher(name, maxBatchTokens, window);
    }

    // The first calls at a new batch shape are slower (libtorch's allocator and kernels settle), so the
    // encoder runs a few batches of the shapes load brings before the server takes requests, as text-embeddings-inference warms up.
    private void Warm(int maxBatchTokens)
    {
        foreach (var (count, words) in new[] { (1, 8), (8, 24), (32, 48) })
        {
            if (count * (words + 2) > maxBatchTokens || words + 2 > _embedder.MaxLength) continue;
            var texts = Enumerable.Repeat(string.Join(' ', Enumerable.Repeat("the", words)), count).ToList();
            _embedder.Embed(texts, EmbeddingPooling.Mean, normalize: true, batchSize: count);
        }
    }

    /// <summary>The name requests use (<c>"model": NAME</c>).</summary>
    public string Name { get; }
    /// <summary>The model folder.</summary>
    public string Directory { get; }
    /// <summary>TorchSharp or ONNX Runtime.</summary>
    public InferenceEngine Engine { get; }
    /// <summary>The task endpoint this model serves besides /embed.</summary>
    public ModelTask Task { get; private set; }
    /// <summary>The config.</summary>
    public BertConfig Config => _embedder.Config;
    /// <summary>Longest text in tokens, [CLS] and [SEP] included: a classifier's model_max_length (tokenizer_config.json), else the model's positions.</summary>
    public int MaxLength => _classifier?.MaxLength ?? _embedder.MaxLength;
    /// <summary>The labels of a classifier or tagger (empty otherwise).</summary>
    public IReadOnlyList<string> Labels => Config.Labels;
    /// <summary>The length of /embed's vectors.</summary>
    public int Dimensions => _embedder.Dimensions;
    /// <summary>The batcher's counts so far.</summary>
    public BatchInfo BatchCounts => _batcher.Counts;

    /// <summary>Loads <paramref name="directory"/> for serving under <paramref name="name"/>.</summary>
    /// <exception cref="InvalidInputException">The folder is not a model SharpLM can load.</exception>
    /// <param name="name">The name requests use.</param>
    /// <param name="directory">The model folder (or, for ONNX Runtime, its exported folder).</param>
    /// <param name="engine">TorchSharp or ONNX Runtime.</param>
    /// <param name="maxBatchTokens">Cap on one model call's padded positions.</param>
    /// <param name="window">How long a batch that is not full waits for more texts.</param>
    /// <param name="computeType">bfloat16 runs the matrix products in bfloat16 (TorchSharp only); null keeps float32.</param>
    public static ServedModel Load(string name, string directory, InferenceEngine engine, int maxBatchTokens, TimeSpan window, ScalarType? computeType = null)
    {
        if (computeType is not null && engine == InferenceEngine.Onnx)
            throw new InvalidInputException("serve: --precision bf16 is for the torch engine; for speed on ONNX Runtime, export with --quantize int8.");
        var embedder = TextEmbedder.Load(directory, engine);
        return new ServedModel(name, directory, engine, embedder, ModelTasks.Of(embedder.Config), maxBatchTokens, window, computeType);
    }

    /// <summary>The dtype of the matrix products: null for float32, or bfloat16.</summary>
    public ScalarType? ComputeType { get; }

    /// <summary>Pooled (and optionally normalised) embeddings, one per text.</summary>
    public Task<float[][]> EmbedAsync(IReadOnlyList<string> texts, EmbeddingPooling pooling, bool normalize, bool truncate)
    {
        var operation = _embed.GetOrAdd((pooling, normalize), key => new(batch => _embedder.Embed(batch, key.Item1, key.Item2, batchSize: batch.Count)));
        var lengths = texts.Select((t, i) => Length(_embedder.Tokenizer, t, i, _embedder.MaxLength, truncate)).ToList();
        return Gather(texts.Select((t, i) => _batcher.Run(operation, t, lengths[i])));
    }

    /// <summary>The top-k candidates of every [MASK], per text.</summary>
    public Task<IReadOnlyList<MaskPrediction>[]> FillMaskAsync(IReadOnlyList<string> texts, int topK, bool truncate)
    {
        var filler = Require(_filler, ModelTask.FillMask);
        if (topK < 1 || topK > Config.VocabSize) throw ApiError.Validation($"top_k {topK}: must be between 1 and the vocabulary size {Config.VocabSize}.");
        var operation = _fill.GetOrAdd(topK, k => new(batch => filler.Fill(batch, k, batch.Count)));
        var lengths = texts.Select((t, i) =>
        {
            int tokens = Length(filler.Tokenizer, t, i, filler.MaxLength, truncate);
            // Checked here, not in the batch: one bad text must not fail the other requests it would be batched with.
            if (!filler.Tokenizer.Encode(t, filler.MaxLength).Ids.Contains(filler.Tokenizer.Vocabulary.MaskId))
                throw ApiError.Validation($"inputs[{i}] has no [MASK] token{(tokens == filler.MaxLength && truncate ? " left after truncation" : "")} (type it as [MASK], in capitals).");
            return tokens;
        }).ToList();
        return Gather(texts.Select((t, i) => _batcher.Run(operation, t, lengths[i])));
    }

    /// <summary>Every label with its probability, most probable first, per text.</summary>
    public Task<List<PredictedLabel>[]> ClassifyAsync(IReadOnlyList<string> texts, bool truncate)
    {
        var classifier = Require(_classifier, ModelTask.Classify);
        var lengths = texts.Select((t, i) => Length(classifier.Tokenizer, t, i, classifier.MaxLength, truncate)).ToList();
        return Gather(texts.Select((t, i) => _batcher.Run(_classify!, t, lengths[i])));
    }

    /// <summary>The entities of each text (long texts are tagged in windows, as <c>predict ner</c> does).</summary>
    public Task<List<PredictedEntity>[]> NerAsync(IReadOnlyList<string> texts)
    {
        var tagger = Require(_tagger, ModelTask.Ner);
        return Gather(texts.Select(t => _batcher.Run(_ner!, t, Math.Min(tagger.Tokenizer.Encode(t).Length, tagger.MaxLength))));
    }

    /// <summary>The answer span of each question in its context (long contexts in windows with a stride, as <c>predict qa</c> does).</summary>
    public Task<PredictedAnswer[]> AnswerAsync(IReadOnlyList<(string Question, string Context)> questions)
    {
        var answerer = Require(_answerer, ModelTask.QuestionAnswering);
        return Gather(questions.Select((q, i) => _batcher.Run(_qa!, new SquadQuestion(i.ToString(System.Globalization.CultureInfo.InvariantCulture), q.Question, q.Context, [], false),
            Math.Min(answerer.Tokenizer.Encode(q.Question, q.Context).Length, answerer.MaxLength))));
    }

    // Texts over the limit get 413 unless the request asked for truncation (text-embeddings-inference's rule).
    private static int Length(BertTokenizer tokenizer, string text, int index, int maxLength, bool truncate)
    {
        int tokens = tokenizer.Encode(text).Length;
        if (tokens <= maxLength) return tokens;
        if (truncate) return maxLength;
        throw new ApiError(413, "Validation", $"inputs[{index}] is {tokens} tokens long; this model takes at most {maxLength} ([CLS] and [SEP] included). Send \"truncate\": true to cut it.");
    }

    private T Require<T>(T? pipeline, ModelTask task) where T : class =>
        pipeline ?? throw new ApiError(400, "Validation", $"model '{Name}' is a {ModelTasks.Endpoint(Task)} model ({Config.Architecture ?? "BertModel"}); /{task.Endpoint()} needs a {task.Endpoint()} model.");

    private static Task<T[]> Gather<T>(IEnumerable<Task<T>> tasks) => System.Threading.Tasks.Task.WhenAll(tasks.ToList());

    /// <summary>Finishes what is queued, then releases the models.</summary>
    public void Dispose()
    {
        _batcher.Dispose();
        _embedder.Dispose();
        _filler?.Dispose();
        _classifier?.Dispose();
        _tagger?.Dispose();
        _answerer?.Dispose();
    }
}
