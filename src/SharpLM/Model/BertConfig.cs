using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpLM.Model;

/// <summary>
/// The shape and options of a BERT model, read from and written to Hugging Face's config.json. The
/// standard keys keep Hugging Face's names and meanings; SharpLM's own options live under keys that
/// start with <c>sharplm_</c> and default to the original BERT, so a config written by Hugging Face
/// loads unchanged and one written by SharpLM loads in Hugging Face (which ignores unknown keys).
/// </summary>
public sealed record BertConfig
{
    /// <summary>Activations Hugging Face's BERT accepts for hidden_act that SharpLM implements.</summary>
    public static readonly IReadOnlyList<string> Activations = ["gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish"];

    /// <summary>Tokens in the vocabulary (vocab_size).</summary>
    public int VocabSize { get; init; } = 30522;
    /// <summary>Width of every hidden state (hidden_size).</summary>
    public int HiddenSize { get; init; } = 768;
    /// <summary>Transformer layers (num_hidden_layers).</summary>
    public int NumHiddenLayers { get; init; } = 12;
    /// <summary>Attention heads per layer (num_attention_heads).</summary>
    public int NumAttentionHeads { get; init; } = 12;
    /// <summary>Width of the feed-forward layer (intermediate_size).</summary>
    public int IntermediateSize { get; init; } = 3072;
    /// <summary>Feed-forward activation (hidden_act).</summary>
    public string HiddenAct { get; init; } = "gelu";
    /// <summary>Dropout after embeddings, attention output and feed-forward (hidden_dropout_prob).</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;
    /// <summary>Dropout on attention probabilities (attention_probs_dropout_prob).</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;
    /// <summary>Longest sequence the position embeddings cover (max_position_embeddings).</summary>
    public int MaxPositionEmbeddings { get; init; } = 512;
    /// <summary>Segment types (type_vocab_size).</summary>
    public int TypeVocabSize { get; init; } = 2;
    /// <summary>Epsilon of every LayerNorm (layer_norm_eps).</summary>
    public double LayerNormEps { get; init; } = 1e-12;
    /// <summary>Standard deviation of the normal initialisation (initializer_range).</summary>
    public double InitializerRange { get; init; } = 0.02;
    /// <summary>Id of [PAD], whose embedding starts at zero (pad_token_id).</summary>
    public int PadTokenId { get; init; }

    /// <summary>
    /// Hugging Face's model_type: "bert", or "electra" (Clark et al. 2020): the same encoder, named
    /// electra.* instead of bert.*, without a pooler, with embeddings of their own width
    /// (embedding_size) projected to the hidden size, and ELECTRA's task heads.
    /// </summary>
    public string ModelType { get; init; } = "bert";

    /// <summary>Hugging Face's values of position_embedding_type that SharpLM implements.</summary>
    public static readonly IReadOnlyList<string> PositionEmbeddingTypes = ["absolute", "relative_key", "relative_key_query"];

    /// <summary>
    /// How the model knows where a token is (position_embedding_type, as in Hugging Face's BERT and
    /// ELECTRA): "absolute", BERT's learned position embeddings added to the word embeddings; or
    /// "relative_key" and "relative_key_query" (Shaw et al. 2018, Huang et al. 2020), a learned vector
    /// per distance in every attention layer (distance_embedding) whose dot product with the query
    /// (and the key) is added to the attention scores. The position embeddings are kept, unused, in the
    /// relative types, as Hugging Face keeps them.
    /// </summary>
    public string PositionEmbeddingType { get; init; } = "absolute";

    /// <summary>Whether the embeddings add learned absolute positions (position_embedding_type "absolute").</summary>
    public bool AbsolutePositions => PositionEmbeddingType == "absolute";

    /// <summary>Width of the embeddings (ELECTRA's embedding_size); the hidden size when null, as in BERT.</summary>
    public int? EmbeddingWidth { get; init; }

    /// <summary>Width of the embeddings: <see cref="EmbeddingWidth"/>, or the hidden size.</summary>
    public int EmbeddingSize => EmbeddingWidth ?? HiddenSize;

    /// <summary>Whether this is an ELECTRA model (model_type "electra").</summary>
    public bool IsElectra => ModelType == "electra";

    /// <summary>The name of the encoder's field, and so the prefix of its weights: "bert" or "electra".</summary>
    public string EncoderName => IsElectra ? "electra" : "bert";

    /// <summary>Hugging Face's class name for a model of this type with the head <paramref name="head"/> ("ForSequenceClassification" gives BertForSequenceClassification or ElectraForSequenceClassification).</summary>
    public string ClassName(string head) => (IsElectra ? "Electra" : "Bert") + head;

    /// <summary>
    /// SharpLM option (key sharplm_pre_layer_norm, default false): LayerNorm before attention and
    /// feed-forward instead of after the residual, and a final LayerNorm (bert.encoder.LayerNorm); it
    /// trains stably at higher learning rates. The per-block LayerNorms keep their Hugging Face names.
    /// </summary>
    public bool PreLayerNorm { get; init; }

    /// <summary>SharpLM option (key sharplm_linear_bias, default true): biases in the encoder's linear layers.</summary>
    public bool LinearBias { get; init; } = true;

    /// <summary>
    /// SharpLM option (key sharplm_glu, default false): gated feed-forward (GEGLU): intermediate.dense
    /// produces twice intermediate_size, and activation(first half) times the second half goes on.
    /// </summary>
    public bool GatedFeedForward { get; init; }

    /// <summary>SharpLM option (key sharplm_sparse_mlm, default false): the masked-LM decoder runs only on masked positions during pretraining.</summary>
    public bool SparseMaskedLm { get; init; }

    /// <summary>SharpLM option (key sharplm_pretraining_dropout, default true): false pretrains without dropout while keeping the dropout probabilities for fine-tuning.</summary>
    public bool PretrainingDropout { get; init; } = true;

    /// <summary>Labels of a classification head (Hugging Face's id2label), empty for none.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];

    /// <summary>
    /// The model class the weights belong to (the first of Hugging Face's architectures), such as
    /// BertForSequenceClassification; null lets <see cref="ToJson"/> infer it from the labels.
    /// </summary>
    public string? Architecture { get; init; }

    /// <summary>SharpLM option (key sharplm_crf, default false): a token-classification model whose tags are decoded by a CRF (weights crf.*).</summary>
    public bool Crf { get; init; }

    /// <summary>Size of each attention head.</summary>
    public int HeadSize => HiddenSize / NumAttentionHeads;

    /// <summary>Named sizes: tiny (2 layers, 128 wide), mini (4/256), small (4/512), medium (8/512), base (12/768); heads of 64, feed-forward 4x.</summary>
    public static BertConfig Preset(string name, int vocabSize = 30522)
    {
        var (layers, hidden) = ModelSize.Of(name);
        return new BertConfig
        {
            VocabSize = vocabSize,
            NumHiddenLayers = layers,
            HiddenSize = hidden,
            NumAttentionHeads = hidden / 64,
            IntermediateSize = 4 * hidden,
        };
    }

    /// <summary>Checks the config; the message names <paramref name="source"/> and the bad key.</summary>
    /// <exception cref="InvalidInputException">A size is not positive, the hidden size does not divide into the heads, or the activation is unknown.</exception>
    public BertConfig Validate(string source = "config")
    {
        void Positive(string key, int value)
        {
            if (value <= 0) throw new InvalidInputException($"{source}: {key} is {value}; it must be positive.");
        }
        Positive("vocab_size", VocabSize);
        Positive("hidden_size", HiddenSize);
        Positive("num_hidden_layers", NumHiddenLayers);
        Positive("num_attention_heads", NumAttentionHeads);
        Positive("intermediate_size", IntermediateSize);
        Positive("max_position_embeddings", MaxPositionEmbeddings);
        Positive("type_vocab_size", TypeVocabSize);
        Positive("embedding_size", EmbeddingSize);
        if (ModelType is not ("bert" or "electra"))
            throw new InvalidInputException($"{source}: model_type '{ModelType}' is not supported; SharpLM reads bert and electra models.");
        if (!PositionEmbeddingTypes.Contains(PositionEmbeddingType))
            throw new InvalidInputException($"{source}: position_embedding_type '{PositionEmbeddingType}' is not supported; use one of {string.Join(", ", PositionEmbeddingTypes)}.");
        if (HiddenSize % NumAttentionHeads != 0)
            throw new InvalidInputException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads}.");
        if (!Activations.Contains(HiddenAct))
            throw new InvalidInputException($"{source}: hidden_act '{HiddenAct}' is not supported; use one of {string.Join(", ", Activations)}.");
        foreach (var (key, p) in new[] { ("hidden_dropout_prob", HiddenDropoutProb), ("attention_probs_dropout_prob", AttentionProbsDropoutProb) })
            if (!(p >= 0 && p < 1)) throw new InvalidInputException($"{source}: {key} is {p}; it must be in [0, 1).");
        if (!(LayerNormEps > 0)) throw new InvalidInputException($"{source}: layer_norm_eps is {LayerNormEps}; it must be positive.");
        if (PadTokenId < 0 || PadTokenId >= VocabSize) throw new InvalidInputException($"{source}: pad_token_id {PadTokenId} is outside the vocabulary (size {VocabSize}).");
        return this;
    }

    /// <summary>Reads config.json (or a model folder holding one) and validates it.</summary>
    public static BertConfig Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "config.json");
        var json = JsonObjectFile.Read(path, "config file");
        try
        {
            var defaults = new BertConfig();
            int Int(string key, int fallback) => json[key] is JsonNode n ? n.GetValue<int>() : fallback;
            double Double(string key, double fallback) => json[key] is JsonNode n ? n.GetValue<double>() : fallback;
            bool Bool(string key, bool fallback) => json[key] is JsonNode n ? n.GetValue<bool>() : fallback;
            var labels = new List<string>();
            if (json["id2label"] is JsonObject id2label)
            {
                var pairs = id2label.Select(p => (Id: int.Parse(p.Key), Label: p.Value!.GetValue<string>())).OrderBy(p => p.Id).ToList();
                if (pairs.Select(p => p.Id).SequenceEqual(Enumerable.Range(0, pairs.Count))) labels = pairs.Select(p => p.Label).ToList();
                else throw new InvalidInputException($"{path}: id2label keys must be 0..{pairs.Count - 1}.");
            }
            return new BertConfig
            {
                VocabSize = Int("vocab_size", defaults.VocabSize),
                HiddenSize = Int("hidden_size", defaults.HiddenSize),
                NumHiddenLayers = Int("num_hidden_layers", defaults.NumHiddenLayers),
                NumAttentionHeads = Int("num_attention_heads", defaults.NumAttentionHeads),
                IntermediateSize = Int("intermediate_size", defaults.IntermediateSize),
                HiddenAct = json["hidden_act"]?.GetValue<string>() ?? defaults.HiddenAct,
                HiddenDropoutProb = Double("hidden_dropout_prob", defaults.HiddenDropoutProb),
                AttentionProbsDropoutProb = Double("attention_probs_dropout_prob", defaults.AttentionProbsDropoutProb),
                MaxPositionEmbeddings = Int("max_position_embeddings", defaults.MaxPositionEmbeddings),
                TypeVocabSize = Int("type_vocab_size", defaults.TypeVocabSize),
                LayerNormEps = Double("layer_norm_eps", defaults.LayerNormEps),
                InitializerRange = Double("initializer_range", defaults.InitializerRange),
                PadTokenId = Int("pad_token_id", defaults.PadTokenId),
                ModelType = json["model_type"]?.GetValue<string>() ?? defaults.ModelType,
                EmbeddingWidth = json["embedding_size"] is JsonNode width ? width.GetValue<int>() : null,
                PositionEmbeddingType = json["position_embedding_type"]?.GetValue<string>() ?? defaults.PositionEmbeddingType,
                PreLayerNorm = Bool("sharplm_pre_layer_norm", defaults.PreLayerNorm),
                LinearBias = Bool("sharplm_linear_bias", defaults.LinearBias),
                GatedFeedForward = Bool("sharplm_glu", defaults.GatedFeedForward),
                SparseMaskedLm = Bool("sharplm_sparse_mlm", defaults.SparseMaskedLm),
                PretrainingDropout = Bool("sharplm_pretraining_dropout", defaults.PretrainingDropout),
                Labels = labels,
                Architecture = json["architectures"] is JsonArray { Count: > 0 } architectures ? architectures[0]!.GetValue<string>() : null,
                Crf = Bool("sharplm_crf", defaults.Crf),
            }.Validate(path);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{path}: a value has the wrong type ({e.Message}).");
        }
    }

    /// <summary>The config.json text, with Hugging Face's keys (model_type "bert" or "electra").</summary>
    public string ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray(Architecture ?? ClassName(Labels.Count > 0 ? "ForSequenceClassification" : "ForPreTraining")),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["intermediate_size"] = IntermediateSize,
            ["hidden_act"] = HiddenAct,
            ["hidden_dropout_prob"] = HiddenDropoutProb,
            ["attention_probs_dropout_prob"] = AttentionProbsDropoutProb,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["type_vocab_size"] = TypeVocabSize,
            ["layer_norm_eps"] = LayerNormEps,
            ["initializer_range"] = InitializerRange,
            ["pad_token_id"] = PadTokenId,
            ["position_embedding_type"] = PositionEmbeddingType,
            ["sharplm_pre_layer_norm"] = PreLayerNorm,
            ["sharplm_linear_bias"] = LinearBias,
            ["sharplm_glu"] = GatedFeedForward,
            ["sharplm_sparse_mlm"] = SparseMaskedLm,
            ["sharplm_pretraining_dropout"] = PretrainingDropout,
        };
        if (IsElectra) json["embedding_size"] = EmbeddingSize;
        if (Crf) json["sharplm_crf"] = true;
        if (Labels.Count > 0)
        {
            var id2label = new JsonObject();
            var label2id = new JsonObject();
            for (int i = 0; i < Labels.Count; i++)
            {
                id2label[i.ToString()] = Labels[i];
                label2id[Labels[i]] = i;
            }
            json["id2label"] = id2label;
            json["label2id"] = label2id;
        }
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes config.json atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");
}
