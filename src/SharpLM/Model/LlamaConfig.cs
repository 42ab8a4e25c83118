using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpLM.Model;

/// <summary>
/// The shape of a Llama-style decoder, read from and written to Hugging Face's config.json for
/// <c>model_type: llama</c> (LlamaConfig's keys and defaults where SharpLM has no reason to differ), so a
/// folder SharpLM writes loads in transformers' LlamaForCausalLM and converts with llama.cpp's script.
/// </summary>
public sealed record LlamaConfig
{
    /// <summary>Tokens in the vocabulary (vocab_size).</summary>
    public int VocabSize { get; init; } = 32000;
    /// <summary>Width of the residual stream (hidden_size).</summary>
    public int HiddenSize { get; init; } = 4096;
    /// <summary>Width of the SwiGLU feed-forward (intermediate_size).</summary>
    public int IntermediateSize { get; init; } = 11008;
    /// <summary>Decoder layers (num_hidden_layers).</summary>
    public int NumHiddenLayers { get; init; } = 32;
    /// <summary>Query heads per layer (num_attention_heads).</summary>
    public int NumAttentionHeads { get; init; } = 32;
    /// <summary>Key and value heads per layer (num_key_value_heads): fewer than the query heads is grouped-query attention.</summary>
    public int NumKeyValueHeads { get; init; } = 32;
    /// <summary>Longest sequence the model is meant for (max_position_embeddings); rotary positions have no table, this bounds generation.</summary>
    public int MaxPositionEmbeddings { get; init; } = 2048;
    /// <summary>Epsilon of every RMSNorm (rms_norm_eps).</summary>
    public double RmsNormEps { get; init; } = 1e-6;
    /// <summary>Base of the rotary frequencies (rope_theta).</summary>
    public double RopeTheta { get; init; } = 10000;
    /// <summary>Whether lm_head shares the token embedding matrix (tie_word_embeddings).</summary>
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Standard deviation of the normal initialisation (initializer_range).</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>Id of the beginning-of-text token (bos_token_id).</summary>
    public int BosTokenId { get; init; }
    /// <summary>Id of the end-of-text token, which separates documents and stops generation (eos_token_id).</summary>
    public int EosTokenId { get; init; }

    /// <summary>Width of each attention head.</summary>
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>
    /// Named sizes, the depths and widths of the BERT presets (<see cref="ModelSize"/>); heads of 64; a SwiGLU width of 8/3 of the hidden size rounded up to a multiple
    /// of 32 (as Llama keeps the parameter count of a 4x feed-forward); tied embeddings, which small models profit from.
    /// </summary>
    public static LlamaConfig Preset(string name, int vocabSize)
    {
        var (layers, hidden) = ModelSize.Of(name);
        return new LlamaConfig
        {
            VocabSize = vocabSize,
            NumHiddenLayers = layers,
            HiddenSize = hidden,
            NumAttentionHeads = hidden / 64,
            NumKeyValueHeads = hidden / 64,
            IntermediateSize = (8 * hidden / 3 + 31) / 32 * 32,
            MaxPositionEmbeddings = 1024,
            RmsNormEps = 1e-5,
            TieWordEmbeddings = true,
        };
    }

    /// <summary>Checks the config; the message names <paramref name="source"/> and the bad key.</summary>
    /// <exception cref="InvalidInputException">A size is not positive, the heads do not divide, or a token id is outside the vocabulary.</exception>
    public LlamaConfig Validate(string source = "config")
    {
        void Positive(string key, double value)
        {
            if (!(value > 0)) throw new InvalidInputException($"{source}: {key} is {value}; it must be positive.");
        }
        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("intermediate_size", IntermediateSize);
        Positive("num_hidden_layers", NumHiddenLayers);
        Positive("num_attention_heads", NumAttentionHeads);
        Positive("num_key_value_heads", NumKeyValueHeads);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        Positive("rms_norm_eps", RmsNormEps);
        Positive("rope_theta", RopeTheta);
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidInputException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.");
        if (HeadSize % 2 != 0)
            throw new InvalidInputException($"{source}: the head size {HeadSize} is odd; rotary embeddings rotate pairs of dimensions.");
        if (NumAttentionHeads % NumKeyValueHeads != 0)
            throw new InvalidInputException($"{source}: num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {NumKeyValueHeads}.");
        foreach (var (key, id) in new[] { ("bos_token_id", BosTokenId), ("eos_token_id", EosTokenId) })
            if (id < 0 || id >= VocabSize) throw new InvalidInputException($"{source}: {key} {id} is outside the vocabulary (size {VocabSize}).");
        return this;
    }

    /// <summary>Whether the config.json at <paramref name="path"/> (or in a folder) says model_type "llama".</summary>
    public static bool IsLlamaFolder(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "config.json");
        if (!File.Exists(path)) return false;
        try { return (JsonNode.Parse(File.ReadAllText(path)) as JsonObject)?["model_type"]?.GetValue<string>() == "llama"; }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { return false; }
    }

    /// <summary>Reads config.json (or a model folder holding one) and validates it.</summary>
    public static LlamaConfig Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "config.json");
        var json = JsonObjectFile.Read(path, "config file");
        try
        {
            string type = json["model_type"]?.GetValue<string>() ?? "(none)";
            if (type != "llama") throw new InvalidInputException($"{path}: model_type is '{type}', not 'llama'.");
            if (json["hidden_act"]?.GetValue<string>() is { } act && act != "silu")
                throw new InvalidInputException($"{path}: hidden_act '{act}' is not supported; Llama's feed-forward is SwiGLU (silu).");
            foreach (string key in new[] { "attention_bias", "mlp_bias" })
                if (json[key]?.GetValue<bool>() == true) throw new InvalidInputException($"{path}: {key} true is not supported; SharpLM's Llama has no biases.");
            if (json["rope_scaling"] is JsonObject) throw new InvalidInputException($"{path}: rope_scaling is not supported.");
            var d = new LlamaConfig();
            int heads = json["num_attention_heads"]?.GetValue<int>() ?? d.NumAttentionHeads;
            return new LlamaConfig
            {
                VocabSize = json["vocab_size"]?.GetValue<int>() ?? d.VocabSize,
                HiddenSize = json["hidden_size"]?.GetValue<int>() ?? d.HiddenSize,
                IntermediateSize = json["intermediate_size"]?.GetValue<int>() ?? d.IntermediateSize,
                NumHiddenLayers = json["num_hidden_layers"]?.GetValue<int>() ?? d.NumHiddenLayers,
                NumAttentionHeads = heads,
                // Hugging Face: a missing num_key_value_heads means as many as the query heads.
                NumKeyValueHeads = json["num_key_value_heads"]?.GetValue<int>() ?? heads,
                MaxPositionEmbeddings = json["max_position_embeddings"]?.GetValue<int>() ?? d.MaxPositionEmbeddings,
                RmsNormEps = json["rms_norm_eps"]?.GetValue<double>() ?? d.RmsNormEps,
                RopeTheta = json["rope_theta"]?.GetValue<double>() ?? d.RopeTheta,
                TieWordEmbeddings = json["tie_word_embeddings"]?.GetValue<bool>() ?? d.TieWordEmbeddings,
                InitializerRange = json["initializer_range"]?.GetValue<double>() ?? d.InitializerRange,
                BosTokenId = json["bos_token_id"]?.GetValue<int>() ?? d.BosTokenId,
                EosTokenId = json["eos_token_id"]?.GetValue<int>() ?? d.EosTokenId,
            }.Validate(path);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{path}: a value has the wrong type ({e.Message}).");
        }
    }

    /// <summary>The config.json text with Hugging Face's LlamaConfig keys.</summary>
    public string ToJson() => new JsonObject
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = VocabSize,
        ["hidden_size"] = HiddenSize,
        ["intermediate_size"] = IntermediateSize,
        ["num_hidden_layers"] = NumHiddenLayers,
        ["num_attention_heads"] = NumAttentionHeads,
        ["num_key_value_heads"] = NumKeyValueHeads,
        ["hidden_act"] = "silu",
        ["max_position_embeddings"] = MaxPositionEmbeddings,
        ["rms_norm_eps"] = RmsNormEps,
        ["rope_theta"] = RopeTheta,
        ["tie_word_embeddings"] = TieWordEmbeddings,
        ["initializer_range"] = InitializerRange,
        ["attention_bias"] = false,
        ["mlp_bias"] = false,
        ["bos_token_id"] = BosTokenId,
        ["eos_token_id"] = EosTokenId,
        ["torch_dtype"] = "float32",
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Writes config.json atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");
}
