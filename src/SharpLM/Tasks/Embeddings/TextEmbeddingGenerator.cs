using Microsoft.Extensions.AI;
using SharpLM.Interop.Onnx;

namespace SharpLM.Tasks.Embeddings;

/// <summary>
/// A model folder as Microsoft.Extensions.AI's <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>, the interface
/// that Semantic Kernel, vector stores and other .NET AI libraries consume. Vectors are pooled and (by default)
/// normalised as sentence-transformers does for all-MiniLM-L6-v2: the mean of the last hidden states, unit length.
/// </summary>
public sealed class TextEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    private readonly TextEmbedder _embedder;
    private readonly bool _ownsEmbedder;
    private readonly EmbeddingPooling _pooling;
    private readonly bool _normalize;

    /// <summary>A generator over an embedder that the caller keeps and disposes.</summary>
    public TextEmbeddingGenerator(TextEmbedder embedder, EmbeddingPooling pooling = EmbeddingPooling.Mean, bool normalize = true)
        : this(embedder, ownsEmbedder: false, pooling, normalize) { }

    private TextEmbeddingGenerator(TextEmbedder embedder, bool ownsEmbedder, EmbeddingPooling pooling, bool normalize)
    {
        _embedder = embedder;
        _ownsEmbedder = ownsEmbedder;
        _pooling = pooling;
        _normalize = normalize;
        Metadata = new EmbeddingGeneratorMetadata("SharpLM", new Uri(Path.GetFullPath(embedder.Directory)), Path.GetFileName(Path.TrimEndingDirectorySeparator(embedder.Directory)), embedder.Dimensions);
    }

    /// <summary>A generator over the model in <paramref name="directory"/> (see <see cref="TextEmbedder.Load"/>); disposing it releases the model.</summary>
    public static TextEmbeddingGenerator Load(string directory, EmbeddingPooling pooling = EmbeddingPooling.Mean, bool normalize = true, InferenceEngine engine = InferenceEngine.Torch) =>
        new(TextEmbedder.Load(directory, engine), ownsEmbedder: true, pooling, normalize);

    /// <summary>The provider ("SharpLM"), the model folder and the embedding length.</summary>
    public EmbeddingGeneratorMetadata Metadata { get; }

    /// <summary>
    /// Embeds <paramref name="values"/> in order. <see cref="EmbeddingGenerationOptions.Dimensions"/>, when given, must be the
    /// model's hidden size (a BERT encoder has one length). Texts over the model's positions are truncated.
    /// </summary>
    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is int dimensions && dimensions != _embedder.Dimensions)
            throw new ArgumentException($"this model's embeddings have {_embedder.Dimensions} dimensions, not {dimensions}.", nameof(options));
        var texts = values.ToList();
        cancellationToken.ThrowIfCancellationRequested();
        // The model runs on the caller's thread: libtorch and ONNX Runtime spread one batch over the cores themselves.
        var vectors = _embedder.Embed(texts, _pooling, _normalize);
        var created = DateTimeOffset.UtcNow;
        var embeddings = new GeneratedEmbeddings<Embedding<float>>(vectors.Select(v => new Embedding<float>(v) { ModelId = Metadata.DefaultModelId, CreatedAt = created }))
        {
            Usage = new UsageDetails { InputTokenCount = texts.Sum(t => (long)Math.Min(_embedder.CountTokens(t), _embedder.MaxLength)) },
        };
        return Task.FromResult(embeddings);
    }

    /// <summary>The metadata, the underlying <see cref="TextEmbedder"/>, or this generator, when asked for by type.</summary>
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return Metadata;
        if (serviceType.IsInstanceOfType(_embedder)) return _embedder;
        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsEmbedder) _embedder.Dispose();
    }
}
