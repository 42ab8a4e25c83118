using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Model;

// BERT (Devlin et al., 2019) as Hugging Face's modeling_bert.py lays it out, one module per class
// and every field named as Hugging Face names it: the parameter names (bert.encoder.layer.0.
// attention.self.query.weight, ...) are a public contract, so that weights move both ways.
// Post-LayerNorm residual blocks, learned absolute positions, GELU feed-forward.

/// <summary>
/// Word + position + segment embeddings, then LayerNorm and dropout. With relative positions
/// (<see cref="BertConfig.PositionEmbeddingType"/>) the position embeddings exist, as in Hugging Face's
/// layout, but are not added: attention carries the positions.
/// </summary>
public sealed class BertEmbeddings : Module<Tensor, Tensor, Tensor>
{
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly bool _absolutePositions;

    /// <summary>Creates the embeddings of <paramref name="config"/>.</summary>
    public BertEmbeddings(BertConfig config) : base(nameof(BertEmbeddings))
    {
        word_embeddings = Embedding(config.VocabSize, config.EmbeddingSize, padding_idx: config.PadTokenId);
        position_embeddings = Embedding(config.MaxPositionEmbeddings, config.EmbeddingSize);
        token_type_embeddings = Embedding(config.TypeVocabSize, config.EmbeddingSize);
        LayerNorm = nn.LayerNorm([config.EmbeddingSize], config.LayerNormEps);
        dropout = Dropout(config.HiddenDropoutProb);
        _absolutePositions = config.AbsolutePositions;
        RegisterComponents();
    }

    /// <summary>The word embedding matrix, which the masked-LM decoder shares.</summary>
    public Parameter WordEmbeddings => word_embeddings.weight!;

    /// <summary>Embeds ids [batch, length] with their segment ids [batch, length].</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds)
    {
        using var words = word_embeddings.call(inputIds);
        using var segments = token_type_embeddings.call(tokenTypeIds);
        using var sum = _absolutePositions ? WithPositions(words) + segments : words + segments;
        using var normalised = LayerNorm.call(sum);
        return dropout.call(normalised);
    }

    private Tensor WithPositions(Tensor words)
    {
        using var positions = arange(words.shape[1], dtype: int64, device: words.device).unsqueeze(0);
        using var placed = position_embeddings.call(positions);
        return words + placed;
    }
}

/// <summary>
/// Multi-head self-attention: query, key and value projections and scaled dot-product attention. With
/// relative positions, a learned vector per distance (distance_embedding, as in Hugging Face's
/// BertSelfAttention) adds query·distance (and key·distance for "relative_key_query") to every score
/// before the scaling by the square root of the head size.
/// </summary>
public sealed class BertSelfAttention : Module<Tensor, Tensor, Tensor>, IMixedPrecision
{
    private readonly Linear query;
    private readonly Linear key;
    private readonly Linear value;
    private readonly Embedding? distance_embedding;
    private readonly int _heads;
    private readonly double _dropout;
    private readonly int _maxPositions;
    private readonly bool _keyDistances;

    /// <summary>Creates the attention of one layer.</summary>
    public BertSelfAttention(BertConfig config) : base(nameof(BertSelfAttention))
    {
        query = Linear(config.HiddenSize, config.HiddenSize, hasBias: config.LinearBias);
        key = Linear(config.HiddenSize, config.HiddenSize, hasBias: config.LinearBias);
        value = Linear(config.HiddenSize, config.HiddenSize, hasBias: config.LinearBias);
        _heads = config.NumAttentionHeads;
        _dropout = config.AttentionProbsDropoutProb;
        _maxPositions = config.MaxPositionEmbeddings;
        _keyDistances = config.PositionEmbeddingType == "relative_key_query";
        if (!config.AbsolutePositions) distance_embedding = Embedding(2 * config.MaxPositionEmbeddings - 1, config.HeadSize);
        RegisterComponents();
    }

    /// <summary>Attends over [batch, length, hidden] with an additive mask [batch, 1, 1, length] (0 to keep, a large negative to drop).</summary>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        long batch = hidden.shape[0], length = hidden.shape[1], width = hidden.shape[2];
        Tensor Heads(Linear projection)
        {
            using var projected = MixedPrecision.Linear(projection, hidden, ComputeType);
            using var split = projected.view(batch, length, _heads, width / _heads);
            return split.transpose(1, 2);
        }
        using var q = Heads(query);
        using var k = Heads(key);
        using var v = Heads(value);
        using var mask = distance_embedding is null ? additiveMask.alias() : WithDistances(q, k, additiveMask);
        using var context = functional.scaled_dot_product_attention(q, k, v, mask, training ? _dropout : 0.0);
        using var joined = context.transpose(1, 2);
        return joined.reshape(batch, length, width);
    }

    // The distance scores go in as part of the additive mask, which scaled_dot_product_attention adds
    // after its own scaling (and differentiates through): so they are divided by the square root of
    // the head size here, giving Hugging Face's (q·k + q·d) / sqrt(head size). Row i, column j is
    // query i against key j at distance i - j.
    private Tensor WithDistances(Tensor q, Tensor k, Tensor additiveMask)
    {
        long length = q.shape[2];
        if (length > _maxPositions)
            throw new InvalidInputException($"a sequence of {length} tokens is longer than the model's {_maxPositions} positions.");
        // The vectors of distances -(length - 1) .. length - 1, in the compute dtype.
        using var window = distance_embedding!.weight!.narrow(0, _maxPositions - length, 2 * length - 1);
        using var vectors = window.to(q.dtype);
        using var descending = vectors.flip(0);
        var scores = Skewed(q, descending);
        if (_keyDistances)
        {
            // key j against distance i - j: Skewed gives k[j]·d(i - j) at [j, i], so transpose.
            using var keyScores = Skewed(k, vectors);
            using var transposed = keyScores.transpose(2, 3);
            scores.add_(transposed);
        }
        scores.div_(Math.Sqrt(q.shape[3]));
        return scores.add_(additiveMask);
    }

    // x [batch, heads, L, d] against the 2L - 1 distance vectors rows[c] (for queries, rows[c] is the
    // vector of distance L - 1 - c) gives all[i, c] = x[i]·rows[c] in one large matrix product, and
    // the score of i against j is all[i, L - 1 - i + j]: a view that starts at column L - 1 and moves
    // one column back per row (row stride 2L - 2), copied out. One product of the shared distance
    // table with every query measured no slower than einsum's batched product per query position.
    private static Tensor Skewed(Tensor x, Tensor rows)
    {
        long b = x.shape[0], h = x.shape[1], length = x.shape[2], width = 2 * length - 1;
        using var rowsT = rows.t();
        using var all = matmul(x, rowsT);
        using var view = all.as_strided([b, h, length, length], [h * length * width, length * width, width - 1, 1], all.storage_offset() + length - 1);
        return view.contiguous();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }
}

/// <summary>
/// Projection of a sub-block's result, dropout, residual and LayerNorm: Hugging Face's BertSelfOutput
/// (after attention) and BertOutput (after the feed-forward) have this same shape.
/// </summary>
public sealed class BertResidualOutput : Module<Tensor, Tensor, Tensor>, IMixedPrecision
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly Dropout dropout;
    private readonly bool _preLayerNorm;

    /// <summary>Creates the block projecting <paramref name="inputSize"/> back to the hidden size.</summary>
    public BertResidualOutput(BertConfig config, int inputSize) : base(nameof(BertResidualOutput))
    {
        dense = Linear(inputSize, config.HiddenSize, hasBias: config.LinearBias);
        LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        dropout = Dropout(config.HiddenDropoutProb);
        _preLayerNorm = config.PreLayerNorm;
        RegisterComponents();
    }

    /// <summary>This block's LayerNorm, which a pre-LayerNorm layer applies to the sub-block's input instead.</summary>
    public Tensor Normalize(Tensor input) => LayerNorm.call(input);

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Post-LN: LayerNorm(dropout(dense(x)) + residual). Pre-LN: dropout(dense(x)) + residual (in the residual's dtype).</summary>
    public override Tensor forward(Tensor subBlockOutput, Tensor residual)
    {
        using var projected = MixedPrecision.Linear(dense, subBlockOutput, ComputeType);
        using var dropped = dropout.call(projected);
        if (_preLayerNorm) return dropped + residual;
        using var sum = dropped + residual;
        return LayerNorm.call(sum);
    }
}

/// <summary>Self-attention with its output block (Hugging Face's BertAttention: fields "self" and "output").</summary>
public sealed class BertAttention : Module<Tensor, Tensor, Tensor>
{
    private readonly BertSelfAttention self;
    private readonly BertResidualOutput output;
    private readonly bool _preLayerNorm;

    /// <summary>Creates the block.</summary>
    public BertAttention(BertConfig config) : base(nameof(BertAttention))
    {
        self = new BertSelfAttention(config);
        output = new BertResidualOutput(config, config.HiddenSize);
        _preLayerNorm = config.PreLayerNorm;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        if (_preLayerNorm)
        {
            using var normalised = output.Normalize(hidden);
            using var attendedNormalised = self.call(normalised, additiveMask);
            return output.call(attendedNormalised, hidden);
        }
        using var attended = self.call(hidden, additiveMask);
        return output.call(attended, hidden);
    }
}

/// <summary>The first half of the feed-forward block: dense to the intermediate size and the activation (gated when GLU is on).</summary>
public sealed class BertIntermediate : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Linear dense;
    private readonly string _activation;
    private readonly bool _gated;

    /// <summary>Creates the block.</summary>
    public BertIntermediate(BertConfig config) : base(nameof(BertIntermediate))
    {
        _gated = config.GatedFeedForward;
        dense = Linear(config.HiddenSize, (_gated ? 2 : 1) * config.IntermediateSize, hasBias: config.LinearBias);
        _activation = config.HiddenAct;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor hidden)
    {
        using var projected = MixedPrecision.Linear(dense, hidden, ComputeType);
        if (!_gated) return Activation.Apply(_activation, projected);
        var halves = projected.chunk(2, -1);
        using var gate = halves[0];
        using var linear = halves[1];
        using var activated = Activation.Apply(_activation, gate);
        return activated * linear;
    }
}

/// <summary>One Transformer layer: attention, then feed-forward, each with residual and LayerNorm.</summary>
public sealed class BertLayer : Module<Tensor, Tensor, Tensor>
{
    private readonly BertAttention attention;
    private readonly BertIntermediate intermediate;
    private readonly BertResidualOutput output;
    private readonly bool _preLayerNorm;

    /// <summary>Creates the layer.</summary>
    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        attention = new BertAttention(config);
        intermediate = new BertIntermediate(config);
        output = new BertResidualOutput(config, config.IntermediateSize);
        _preLayerNorm = config.PreLayerNorm;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        using var attended = attention.call(hidden, additiveMask);
        if (_preLayerNorm)
        {
            using var normalised = output.Normalize(attended);
            using var expandedNormalised = intermediate.call(normalised);
            return output.call(expandedNormalised, attended);
        }
        using var expanded = intermediate.call(attended);
        return output.call(expanded, attended);
    }
}

/// <summary>The stack of layers (field "layer", as Hugging Face names it).</summary>
public sealed class BertEncoder : Module<Tensor, Tensor, Tensor>
{
    private readonly ModuleList<BertLayer> layer;
    // Only with pre-LayerNorm (a SharpLM option): the residual stream is normalised once at the end.
    private readonly LayerNorm? LayerNorm;

    /// <summary>Creates num_hidden_layers layers.</summary>
    public BertEncoder(BertConfig config) : base(nameof(BertEncoder))
    {
        layer = ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new BertLayer(config)).ToArray());
        if (config.PreLayerNorm) LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor hidden, Tensor additiveMask)
    {
        Tensor current = hidden.alias();
        foreach (var block in layer)
        {
            var next = block.call(current, additiveMask);
            current.Dispose();
            current = next;
        }
        if (LayerNorm is null) return current;
        using (current) return LayerNorm.call(current);
    }
}

/// <summary>Dense + tanh on the [CLS] hidden state: the pooled output for NSP and classification.</summary>
public sealed class BertPooler : Module<Tensor, Tensor>
{
    private readonly Linear dense;

    /// <summary>Creates the pooler.</summary>
    public BertPooler(BertConfig config) : base(nameof(BertPooler))
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor sequence)
    {
        using var first = sequence.select(1, 0);
        using var projected = dense.call(first);
        return projected.tanh();
    }
}

/// <summary>
/// The encoder (Hugging Face's BertModel, or ElectraModel when the config's model_type is "electra"):
/// embeddings, for ELECTRA a projection from the embedding width to the hidden size
/// (embeddings_project, present when they differ), the layers, and for BERT the pooler. Input ids,
/// segment ids and attention mask are [batch, length] int64; the outputs are the last hidden state
/// [batch, length, hidden] and the pooled output [batch, hidden] (empty without a pooler).
/// </summary>
public sealed class BertModel : Module<Tensor, Tensor, Tensor, (Tensor LastHiddenState, Tensor PooledOutput)>, IMixedPrecision
{
    private readonly BertEmbeddings? embeddings;
    private readonly Linear? embeddings_project;
    private readonly BertEncoder encoder;
    private readonly BertPooler? pooler;
    // ELECTRA's generator embeds with the discriminator's embeddings: held outside this module's
    // fields so that the shared weights are registered (and updated) once, by their owner.
    private readonly Func<BertEmbeddings>? _sharedEmbeddings;

    /// <summary>Creates a model with Hugging Face's initialisation.</summary>
    /// <param name="config">Sizes and options.</param>
    /// <param name="addPoolingLayer">False for heads that do not use the pooled output (token classification, QA), as in Hugging Face; ELECTRA never has one.</param>
    /// <param name="sharedEmbeddings">Another model's embeddings to use instead of owning any (ELECTRA's generator shares the discriminator's).</param>
    public BertModel(BertConfig config, bool addPoolingLayer = true, BertEmbeddings? sharedEmbeddings = null) : base(nameof(BertModel))
    {
        Config = config.Validate();
        if (sharedEmbeddings is null) embeddings = new BertEmbeddings(config);
        else _sharedEmbeddings = () => sharedEmbeddings;
        if (config.EmbeddingSize != config.HiddenSize) embeddings_project = Linear(config.EmbeddingSize, config.HiddenSize);
        encoder = new BertEncoder(config);
        if (addPoolingLayer && !config.IsElectra) pooler = new BertPooler(config);
        RegisterComponents();
        BertInitialization.Apply(this, config);
    }

    /// <summary>The configuration.</summary>
    public BertConfig Config { get; }

    /// <summary>The embeddings, whose word matrix the masked-LM decoder shares.</summary>
    public BertEmbeddings Embeddings => embeddings ?? _sharedEmbeddings!();

    /// <summary>The compute dtype of the layers (see <see cref="MixedPrecision"/>); the embeddings, their projection and the pooler stay in the weights' dtype.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>The last hidden state, and the pooled output (an empty tensor when the model has no pooler).</summary>
    public override (Tensor LastHiddenState, Tensor PooledOutput) forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        // Attention takes its mask in the dtype it computes in.
        using var additiveMask = AdditiveMask(attentionMask, ComputeType ?? Embeddings.WordEmbeddings.dtype);
        using var embedded = Embeddings.call(inputIds, tokenTypeIds);
        using var projected = embeddings_project is null ? embedded.alias() : embeddings_project.call(embedded);
        var sequence = encoder.call(projected, additiveMask);
        return (sequence, pooler is null ? empty(0) : pooler.call(sequence));
    }

    /// <summary>
    /// [batch, length] of 1 (attend) and 0 (padding) to the additive form attention takes,
    /// [batch, 1, 1, length]: 0 where attended, the dtype's lowest value where not, as Hugging Face does.
    /// </summary>
    public static Tensor AdditiveMask(Tensor attentionMask, ScalarType dtype)
    {
        using var expanded = attentionMask.unsqueeze(1).unsqueeze(2).to(dtype);
        using var inverted = 1.0 - expanded;
        double lowest = dtype == ScalarType.Float64 ? double.MinValue : dtype == ScalarType.BFloat16 ? -3.3895e38 : float.MinValue;
        return inverted * lowest;
    }
}
