using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Model;

// A Llama-style decoder (Touvron et al. 2023) as Hugging Face's modeling_llama.py lays it out, every field
// named as there (model.layers.0.self_attn.q_proj.weight, ...), since those names are what transformers and
// llama.cpp's converter read. Pre-RMSNorm residual blocks, rotary positions on queries and keys (the
// "rotate half" layout of Hugging Face), SwiGLU feed-forward, no biases, optional grouped-query attention.

/// <summary>RMSNorm (Zhang and Sennrich 2019): x / sqrt(mean(x²) + eps) · weight, computed in float32 as Hugging Face does.</summary>
public sealed class LlamaRMSNorm : Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly double _eps;

    /// <summary>Creates a norm over <paramref name="size"/> features, its weight at one.</summary>
    public LlamaRMSNorm(int size, double eps) : base(nameof(LlamaRMSNorm))
    {
        weight = Parameter(ones(size));
        _eps = eps;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor input)
    {
        using var x = input.to(weight.dtype);
        using var squares = x.pow(2);
        using var mean = squares.mean([-1L], keepdim: true);
        using var shifted = mean.add(_eps);
        using var scale = shifted.rsqrt();
        using var normalised = x * scale;
        return normalised * weight;
    }
}

/// <summary>
/// Rotary position embeddings (Su et al. 2021) in Hugging Face's layout: dimension i of a head is paired with
/// i + d/2, and the pair is rotated by position · theta^(-2i/d).
/// </summary>
public static class RotaryEmbedding
{
    /// <summary>The cosines and sines [length, head size] for positions <paramref name="start"/> .. start + length - 1, computed in float64 and given in <paramref name="dtype"/>.</summary>
    public static (Tensor Cos, Tensor Sin) Table(int headSize, double theta, long start, long length, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        using var exponents = arange(0, headSize, 2, dtype: float64, device: device) / headSize;
        using var inverse = pow(theta, exponents).reciprocal();
        using var positions = arange(start, start + length, dtype: float64, device: device);
        using var angles = outer(positions, inverse);
        using var both = cat([angles, angles], -1);
        var cos = both.cos().to(dtype);
        var sin = both.sin().to(dtype);
        return (cos.MoveToOuterDisposeScope(), sin.MoveToOuterDisposeScope());
    }

    /// <summary>Rotates x [batch, heads, length, head size] by the table (cast to x's dtype).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long half = x.shape[^1] / 2;
        using var c = cos.to(x.dtype);
        using var s = sin.to(x.dtype);
        using var first = x.narrow(-1, 0, half);
        using var second = x.narrow(-1, half, half);
        using var negated = second.neg();
        using var rotated = cat([negated, first], -1);
        using var straight = x * c;
        using var turned = rotated * s;
        return straight + turned;
    }
}

/// <summary>Keys and values of every layer for the tokens seen so far: what makes each generated token cost one position, not the whole prefix.</summary>
public sealed class LlamaKeyValueCache : IDisposable
{
    private readonly Tensor?[] _keys, _values;

    /// <summary>An empty cache for <paramref name="layers"/> layers.</summary>
    public LlamaKeyValueCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
    }

    /// <summary>Positions already cached (the position of the next token).</summary>
    public long Length => _keys[0]?.shape[2] ?? 0;

    /// <summary>Appends this step's keys and values [batch, kv heads, new, head size] to layer <paramref name="layer"/>'s, and returns all of them.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor keys, Tensor values)
    {
        var (oldKeys, oldValues) = (_keys[layer], _values[layer]);
        _keys[layer] = oldKeys is null ? keys.detach().clone() : cat([oldKeys, keys.detach()], 2);
        _values[layer] = oldValues is null ? values.detach().clone() : cat([oldValues, values.detach()], 2);
        _keys[layer]!.DetachFromDisposeScope();
        _values[layer]!.DetachFromDisposeScope();
        oldKeys?.Dispose();
        oldValues?.Dispose();
        return (_keys[layer]!.alias(), _values[layer]!.alias());
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose();
            _values[i]?.Dispose();
            _keys[i] = _values[i] = null;
        }
    }
}

/// <summary>Causal self-attention with rotary positions and grouped-query heads (fields q_proj, k_proj, v_proj, o_proj).</summary>
public sealed class LlamaAttention : Module, IMixedPrecision
{
    private readonly Linear q_proj, k_proj, v_proj, o_proj;
    private readonly int _heads, _keyValueHeads, _headSize;

    /// <summary>Creates the attention of one layer.</summary>
    public LlamaAttention(LlamaConfig config) : base(nameof(LlamaAttention))
    {
        _heads = config.NumAttentionHeads;
        _keyValueHeads = config.NumKeyValueHeads;
        _headSize = config.HeadSize;
        q_proj = Linear(config.HiddenSize, _heads * _headSize, hasBias: false);
        k_proj = Linear(config.HiddenSize, _keyValueHeads * _headSize, hasBias: false);
        v_proj = Linear(config.HiddenSize, _keyValueHeads * _headSize, hasBias: false);
        o_proj = Linear(_heads * _headSize, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>
    /// Attends over hidden [batch, length, width] at the positions of <paramref name="cos"/> and <paramref name="sin"/>;
    /// with a cache, the new tokens also attend to every cached one, and their keys and values are added to it.
    /// </summary>
    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, LlamaKeyValueCache? cache, int layer)
    {
        long batch = hidden.shape[0], length = hidden.shape[1];
        Tensor Heads(Linear projection, int heads)
        {
            using var projected = MixedPrecision.Linear(projection, hidden, ComputeType);
            using var split = projected.view(batch, length, heads, _headSize);
            return split.transpose(1, 2);
        }
        using var q0 = Heads(q_proj, _heads);
        using var k0 = Heads(k_proj, _keyValueHeads);
        using var v = Heads(v_proj, _keyValueHeads);
        using var q = RotaryEmbedding.Apply(q0, cos, sin);
        using var kNew = RotaryEmbedding.Apply(k0, cos, sin);
        var (k, values) = cache is null ? (kNew.alias(), v.alias()) : cache.Append(layer, kNew, v);
        using (k)
        using (values)
        {
            long past = k.shape[2] - length;
            using var keys = Repeated(k);
            using var vs = Repeated(values);
            // Without a cached prefix the mask is the plain causal one; with one, a single new token sees
            // everything, and several new tokens need the causal mask shifted by the prefix.
            using var context = past == 0 ? functional.scaled_dot_product_attention(q, keys, vs, null, 0.0, true)
                : length == 1 ? functional.scaled_dot_product_attention(q, keys, vs)
                : functional.scaled_dot_product_attention(q, keys, vs, ShiftedCausalMask(past, length, q.dtype, q.device));
            using var joined = context.transpose(1, 2);
            using var flat = joined.reshape(batch, length, _heads * _headSize);
            return MixedPrecision.Linear(o_proj, flat, ComputeType);
        }
    }

    // Hugging Face's repeat_kv: key/value head j serves query heads j·groups .. (j+1)·groups - 1.
    private Tensor Repeated(Tensor x)
    {
        int groups = _heads / _keyValueHeads;
        if (groups == 1) return x.alias();
        long b = x.shape[0], length = x.shape[2];
        using var widened = x.unsqueeze(2);
        using var expanded = widened.expand(b, _keyValueHeads, groups, length, _headSize);
        return expanded.reshape(b, _heads, length, _headSize);
    }

    private static Tensor ShiftedCausalMask(long past, long length, ScalarType dtype, Device device)
    {
        using var allowed = ones(length, past + length, dtype: @bool, device: device).tril(past);
        using var blocked = allowed.logical_not();
        return zeros(length, past + length, dtype: dtype, device: device).masked_fill_(blocked, double.NegativeInfinity);
    }
}

/// <summary>SwiGLU feed-forward (Shazeer 2020): down_proj(silu(gate_proj(x)) · up_proj(x)).</summary>
public sealed class LlamaMLP : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Linear gate_proj, up_proj, down_proj;

    /// <summary>Creates the feed-forward of one layer.</summary>
    public LlamaMLP(LlamaConfig config) : base(nameof(LlamaMLP))
    {
        gate_proj = Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        up_proj = Linear(config.HiddenSize, config.IntermediateSize, hasBias: false);
        down_proj = Linear(config.IntermediateSize, config.HiddenSize, hasBias: false);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor hidden)
    {
        using var gate = MixedPrecision.Linear(gate_proj, hidden, ComputeType);
        using var activated = functional.silu(gate);
        using var up = MixedPrecision.Linear(up_proj, hidden, ComputeType);
        using var product = activated * up;
        return MixedPrecision.Linear(down_proj, product, ComputeType);
    }
}

/// <summary>One pre-norm decoder layer: x + attention(norm(x)), then + mlp(norm(·)).</summary>
public sealed class LlamaDecoderLayer : Module
{
    private readonly LlamaAttention self_attn;
    private readonly LlamaMLP mlp;
    private readonly LlamaRMSNorm input_layernorm, post_attention_layernorm;

    /// <summary>Creates the layer.</summary>
    public LlamaDecoderLayer(LlamaConfig config) : base(nameof(LlamaDecoderLayer))
    {
        self_attn = new LlamaAttention(config);
        mlp = new LlamaMLP(config);
        input_layernorm = new LlamaRMSNorm(config.HiddenSize, config.RmsNormEps);
        post_attention_layernorm = new LlamaRMSNorm(config.HiddenSize, config.RmsNormEps);
        RegisterComponents();
    }

    /// <summary>The layer over hidden [batch, length, width] (float32 residual stream).</summary>
    public Tensor Forward(Tensor hidden, Tensor cos, Tensor sin, LlamaKeyValueCache? cache, int layer)
    {
        using var normed = input_layernorm.call(hidden);
        using var attended = self_attn.Forward(normed, cos, sin, cache, layer);
        using var middle = hidden + attended;
        using var normed2 = post_attention_layernorm.call(middle);
        using var fed = mlp.call(normed2);
        return middle + fed;
    }
}

/// <summary>The decoder stack: embed_tokens, layers, norm (Hugging Face's LlamaModel).</summary>
public sealed class LlamaModel : Module
{
    private readonly Embedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly LlamaRMSNorm norm;
    private readonly LlamaConfig _config;

    /// <summary>Creates the stack.</summary>
    public LlamaModel(LlamaConfig config) : base(nameof(LlamaModel))
    {
        _config = config;
        embed_tokens = Embedding(config.VocabSize, config.HiddenSize);
        layers = ModuleList(Enumerable.Range(0, config.NumHiddenLayers).Select(_ => new LlamaDecoderLayer(config)).ToArray());
        norm = new LlamaRMSNorm(config.HiddenSize, config.RmsNormEps);
        RegisterComponents();
    }

    /// <summary>The token embedding matrix, which a tied lm_head shares.</summary>
    public Parameter TokenEmbeddings => embed_tokens.weight!;

    /// <summary>Final hidden states [batch, length, width] of ids [batch, length], continuing the cache's positions when given.</summary>
    public Tensor Forward(Tensor inputIds, LlamaKeyValueCache? cache = null)
    {
        long start = cache?.Length ?? 0, length = inputIds.shape[1];
        if (start + length > _config.MaxPositionEmbeddings)
            throw new InvalidInputException($"{start + length} positions are more than the model's max_position_embeddings ({_config.MaxPositionEmbeddings}).");
        var hidden = embed_tokens.call(inputIds);
        var (cos, sin) = RotaryEmbedding.Table(_config.HeadSize, _config.RopeTheta, start, length, hidden.dtype, inputIds.device);
        using (cos)
        using (sin)
        {
            for (int i = 0; i < layers.Count; i++)
            {
                var next = layers[i].Forward(hidden, cos, sin, cache, i);
                hidden.Dispose();
                hidden = next;
            }
            using (hidden) return norm.call(hidden);
        }
    }
}

/// <summary>
/// Hugging Face's LlamaForCausalLM: the decoder and lm_head. With tie_word_embeddings the logits use the token
/// embeddings and there is no lm_head parameter (Hugging Face does not save one then either).
/// </summary>
public sealed class LlamaForCausalLM : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly LlamaModel model;
    private readonly Linear? lm_head;

    /// <summary>Creates the model with PyTorch's default initialisation; call <see cref="Initialize"/> for Hugging Face's.</summary>
    public LlamaForCausalLM(LlamaConfig config) : base(nameof(LlamaForCausalLM))
    {
        Config = config;
        model = new LlamaModel(config);
        if (!config.TieWordEmbeddings) lm_head = Linear(config.HiddenSize, config.VocabSize, hasBias: false);
        RegisterComponents();
    }

    /// <summary>The config the model was built from.</summary>
    public LlamaConfig Config { get; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Hugging Face's _init_weights for Llama: every linear and embedding weight N(0, initializer_range), norms at one.</summary>
    public void Initialize(Generator? generator = null)
    {
        using var _ = no_grad();
        foreach (var (name, parameter) in named_parameters())
            if (!name.EndsWith("norm.weight", StringComparison.Ordinal))
                parameter.normal_(0, Config.InitializerRange, generator);
    }

    /// <summary>Next-token logits [batch, length, vocab] (float32) of ids [batch, length].</summary>
    public override Tensor forward(Tensor inputIds) => Logits(inputIds, null);

    /// <summary>Next-token logits (float32), continuing and extending <paramref name="cache"/> when given.</summary>
    public Tensor Logits(Tensor inputIds, LlamaKeyValueCache? cache)
    {
        using var hidden = model.Forward(inputIds, cache);
        var logits = MixedPrecision.Linear(hidden, lm_head?.weight ?? model.TokenEmbeddings, null, ComputeType);
        return MixedPrecision.Float32(logits, ComputeType);
    }

    /// <summary>
    /// The mean next-token cross-entropy of ids [batch, length]: position t predicts token t + 1, as Hugging Face
    /// shifts labels inside LlamaForCausalLM (labels equal to the ids, -100 ignored).
    /// </summary>
    public Tensor Loss(Tensor inputIds, Tensor? labels = null)
    {
        var (logits, targets) = NextTokenLogits(inputIds, labels);
        using (logits)
        using (targets)
            return functional.cross_entropy(logits, targets, ignore_index: -100);
    }

    /// <summary>
    /// The logits of every position that has a next token, [batch × (length - 1), vocab] (float32), and the tokens they
    /// predict, [batch × (length - 1)]: position t predicts token t + 1 of <paramref name="labels"/> (the ids when null).
    /// <see cref="Loss"/> and pretraining's per-token losses both start here.
    /// </summary>
    public (Tensor Logits, Tensor Targets) NextTokenLogits(Tensor inputIds, Tensor? labels = null)
    {
        using var logits = forward(inputIds);
        long length = inputIds.shape[1];
        using var predicting = logits.narrow(1, 0, length - 1);
        using var targets = (labels ?? inputIds).narrow(1, 1, length - 1);
        return (predicting.reshape(-1, Config.VocabSize), targets.reshape(-1));
    }

    /// <summary>A new key/value cache for generation.</summary>
    public LlamaKeyValueCache NewCache() => new(Config.NumHiddenLayers);
}
