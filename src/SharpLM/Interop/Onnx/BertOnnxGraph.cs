using Onnx;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Interop.Onnx;

/// <summary>
/// Writes the eval-mode forward pass of a SharpLM BERT or ELECTRA model as an ONNX graph, operator by
/// operator as <see cref="BertModel"/> and the task heads compute it: embeddings (Gather), LayerNorm
/// (opset 17's LayerNormalization), linear layers (MatMul with the transposed weight, then Add),
/// attention written out (MatMul, Div, an additive mask, Softmax), Hugging Face's relative-position
/// scores computed as SharpLM's TorchSharp attention computes them (the queries against a window of
/// distance_embedding, then a skewed GatherElements), GELU through Erf. No dropout: an exported model
/// predicts. Weights are initializers under their Hugging Face names
/// (linear weights transposed, with ".T"); the masked-LM decoder transposes the word embeddings in the
/// graph rather than storing them twice.
/// </summary>
internal sealed class BertOnnxGraph
{
    private readonly OnnxGraphBuilder _g = new();
    private readonly BertConfig _config;
    // The model's weights, and the stacked query-key-value weights made from them (disposed after the build).
    private readonly Dictionary<string, Tensor> _weights;
    private readonly OnnxInt8? _int8;

    private BertOnnxGraph(BertConfig config, IReadOnlyDictionary<string, Tensor> weights, OnnxQuantization quantization)
    {
        _config = config;
        _weights = new Dictionary<string, Tensor>(weights, StringComparer.Ordinal);
        if (quantization != OnnxQuantization.None) _int8 = new OnnxInt8(_g, quantization);
    }

    /// <summary>
    /// The model of <paramref name="config"/> with <paramref name="head"/>, from <paramref name="weights"/>
    /// named as a SharpLM module names its parameters (the encoder's under <paramref name="encoderPrefix"/>:
    /// "bert.", "electra.", or "" for a bare encoder).
    /// </summary>
    public static ModelProto Build(BertConfig config, IReadOnlyDictionary<string, Tensor> weights, string encoderPrefix, OnnxHead head,
        bool hasNextSentenceHead, OnnxQuantization quantization, int opset, string producerVersion)
    {
        var graph = new BertOnnxGraph(config, weights, quantization);
        try
        {
            graph.Write(encoderPrefix, head, hasNextSentenceHead);
            return graph._g.ToModel(opset, producerVersion);
        }
        finally
        {
            foreach (var name in graph._weights.Keys.Except(weights.Keys)) graph._weights[name].Dispose();
        }
    }

    private void Write(string prefix, OnnxHead head, bool nextSentence)
    {
        string ids = _g.TokenInput("input_ids"), mask = _g.TokenInput("attention_mask"), types = _g.TokenInput("token_type_ids");
        string hidden = Encoder(prefix, ids, types, mask);
        string last = _g.Node("Identity", [hidden], "last_hidden_state");
        _g.FloatOutput(last, ["batch_size", "sequence_length", _config.HiddenSize]);
        bool pooler = _weights.ContainsKey(prefix + "pooler.dense.weight") && !_config.IsElectra;
        string? pooled = null;
        if (pooler)
        {
            _g.Scope = prefix + "pooler";
            string first = _g.Node("Gather", [last, _g.Int64s([0], scalar: true)], attributes: ("axis", 1L));
            pooled = _g.Node("Tanh", [Linear(first, prefix + "pooler.dense")], "pooler_output");
            _g.FloatOutput(pooled, ["batch_size", _config.HiddenSize]);
        }
        _g.Scope = "head";
        string wordEmbeddings = prefix + "embeddings.word_embeddings.weight";
        switch (head)
        {
            case OnnxHead.Encoder:
                break;
            case OnnxHead.PreTraining or OnnxHead.MaskedLm when !_config.IsElectra:
                {
                    string transformed = Transform(last, "cls.predictions.transform", _config.HiddenAct);
                    string name = head == OnnxHead.PreTraining ? "prediction_logits" : "logits";
                    Output(Decoder(transformed, wordEmbeddings, "cls.predictions.bias", name), ["batch_size", "sequence_length", _config.VocabSize]);
                    if (head == OnnxHead.PreTraining && nextSentence)
                        Output(Linear(pooled ?? throw new InvalidInputException("a BERT pretraining model without a pooler has no next-sentence head"), "cls.seq_relationship", "seq_relationship_logits"), ["batch_size", 2]);
                    break;
                }
            case OnnxHead.MaskedLm:
                {
                    // ELECTRA's generator: dense to the embedding width, GELU (always, as Hugging Face), LayerNorm, tied decoder.
                    string transformed = Transform(last, "generator_predictions", "gelu");
                    Output(Decoder(transformed, wordEmbeddings, "generator_lm_head.bias", "logits"), ["batch_size", "sequence_length", _config.VocabSize]);
                    break;
                }
            case OnnxHead.ReplacedTokenDetection:
                {
                    string activated = Activation(Linear(last, "discriminator_predictions.dense"), _config.HiddenAct);
                    string logit = Linear(activated, "discriminator_predictions.dense_prediction");
                    Output(_g.Node("Squeeze", [logit, _g.Int64s([-1])], "logits"), ["batch_size", "sequence_length"]);
                    break;
                }
            case OnnxHead.SequenceClassification:
                {
                    int labels = _config.Labels.Count;
                    string logits;
                    if (_config.IsElectra)
                    {
                        string first = _g.Node("Gather", [last, _g.Int64s([0], scalar: true)], attributes: ("axis", 1L));
                        logits = Linear(Activation(Linear(first, "classifier.dense"), "gelu"), "classifier.out_proj", "logits");
                    }
                    else logits = Linear(pooled ?? throw new InvalidInputException("a BERT classifier needs its pooler (bert.pooler.dense.*)"), "classifier", "logits");
                    Output(logits, ["batch_size", labels]);
                    break;
                }
            case OnnxHead.TokenClassification:
                Output(Linear(last, "classifier", "logits"), ["batch_size", "sequence_length", _config.Labels.Count]);
                break;
            case OnnxHead.QuestionAnswering:
                {
                    string both = Linear(last, "qa_outputs");
                    var parts = _g.Nodes("Split", [both, _g.Int64s([1, 1])], 2, attributes: ("axis", -1L));
                    Output(_g.Node("Squeeze", [parts[0], _g.Int64s([-1])], "start_logits"), ["batch_size", "sequence_length"]);
                    Output(_g.Node("Squeeze", [parts[1], _g.Int64s([-1])], "end_logits"), ["batch_size", "sequence_length"]);
                    break;
                }
        }
    }

    private void Output(string value, IReadOnlyList<object> dims) => _g.FloatOutput(value, dims);

    private string Encoder(string prefix, string ids, string types, string mask)
    {
        _g.Scope = prefix + "embeddings";
        string e = prefix + "embeddings.";
        string words = _g.Node("Gather", [Weight(e + "word_embeddings.weight"), ids]);
        string segments = _g.Node("Gather", [Weight(e + "token_type_embeddings.weight"), types]);
        string shape = _g.Node("Shape", [ids]);
        string length = _g.Node("Gather", [shape, _g.Int64s([1], scalar: true)], attributes: ("axis", 0L));
        string positions = _g.Node("Range", [_g.Int64s([0], scalar: true), length, _g.Int64s([1], scalar: true)]);
        // Summed in Hugging Face's order (words and segments, then positions): the export of a Hugging Face
        // model then gives exactly what that model's own ONNX export gives.
        string sum = _g.Node("Add", [words, segments]);
        if (_config.AbsolutePositions) sum = _g.Node("Add", [sum, _g.Node("Gather", [Weight(e + "position_embeddings.weight"), positions])]);
        string hidden = LayerNorm(sum, e + "LayerNorm");
        if (_weights.ContainsKey(prefix + "embeddings_project.weight")) hidden = Linear(hidden, prefix + "embeddings_project");

        // [batch, 1, 1, length]: 0 where attended, the lowest float where padded, as BertModel.AdditiveMask.
        _g.Scope = prefix + "attention_mask";
        string attended = _g.Node("Cast", [mask], attributes: ("to", (long)TensorProto.Types.DataType.Float));
        string dropped = _g.Node("Sub", [_g.Float(1f), attended]);
        string additive = _g.Node("Unsqueeze", [_g.Node("Mul", [dropped, _g.Float(float.MinValue)]), _g.Int64s([1, 2])]);

        // Relative positions, as SharpLM's TorchSharp attention computes them: each query against the
        // 2L - 1 distance vectors of the window -(L - 1) .. L - 1 in one product, then query i's score
        // against key j picked at column i - j + L - 1 (GatherElements with that index for every
        // batch row and head). One product with the shared window is far cheaper than Hugging Face's
        // Einsum over a gathered [L, L, head] table of vectors, and gives the same scores.
        RelativeWindow? window = null;
        if (!_config.AbsolutePositions)
        {
            _g.Scope = prefix + "relative_positions";
            long max = _config.MaxPositionEmbeddings;
            string length1 = _g.Node("Unsqueeze", [length, _g.Int64s([0])]);
            string start = _g.Node("Sub", [_g.Int64s([max]), length1]);
            string end = _g.Node("Add", [_g.Int64s([max - 1]), length1]);
            string rows = _g.Node("Unsqueeze", [positions, _g.Int64s([1])]);
            string columns = _g.Node("Unsqueeze", [positions, _g.Int64s([0])]);
            string column = _g.Node("Add", [_g.Node("Sub", [rows, columns]), _g.Node("Sub", [length, _g.Int64s([1], scalar: true)])]);
            string batch = _g.Node("Slice", [shape, _g.Int64s([0]), _g.Int64s([1])]);
            string scoreShape = _g.Node("Concat", [batch, _g.Int64s([_config.NumAttentionHeads]), length1, length1], attributes: ("axis", 0L));
            window = new RelativeWindow(start, end, _g.Node("Expand", [column, scoreShape]));
        }

        for (int i = 0; i < _config.NumHiddenLayers; i++) hidden = Layer(hidden, $"{prefix}encoder.layer.{i}.", additive, window);
        if (_config.PreLayerNorm)
        {
            _g.Scope = prefix + "encoder";
            hidden = LayerNorm(hidden, prefix + "encoder.LayerNorm");
        }
        return hidden;
    }

    // The slice of distance_embedding a sequence uses ([start, end) rows) and the column of each score in the product with it.
    private sealed record RelativeWindow(string Start, string End, string Columns);

    private string Layer(string hidden, string p, string additiveMask, RelativeWindow? window)
    {
        _g.Scope = p + "attention";
        string input = _config.PreLayerNorm ? LayerNorm(hidden, p + "attention.output.LayerNorm") : hidden;
        string attended = Linear(SelfAttention(input, p + "attention.self.", additiveMask, window), p + "attention.output.dense");
        hidden = _config.PreLayerNorm ? _g.Node("Add", [attended, hidden]) : LayerNorm(_g.Node("Add", [attended, hidden]), p + "attention.output.LayerNorm");

        _g.Scope = p + "intermediate";
        string ffInput = _config.PreLayerNorm ? LayerNorm(hidden, p + "output.LayerNorm") : hidden;
        string expanded = Linear(ffInput, p + "intermediate.dense");
        if (_config.GatedFeedForward)
        {
            var halves = _g.Nodes("Split", [expanded, _g.Int64s([_config.IntermediateSize, _config.IntermediateSize])], 2, attributes: ("axis", -1L));
            expanded = _g.Node("Mul", [Activation(halves[0], _config.HiddenAct), halves[1]]);
        }
        else expanded = Activation(expanded, _config.HiddenAct);
        _g.Scope = p + "output";
        string projected = Linear(expanded, p + "output.dense");
        return _config.PreLayerNorm ? _g.Node("Add", [projected, hidden]) : LayerNorm(_g.Node("Add", [projected, hidden]), p + "output.LayerNorm");
    }

    private string SelfAttention(string hidden, string p, string additiveMask, RelativeWindow? window)
    {
        _g.Scope = p[..^1];
        long heads = _config.NumAttentionHeads, size = _config.HeadSize;
        string split = _g.Int64s([0, 0, heads, size]);
        // Query, key and value as one product with the three weights stacked: one larger matrix product
        // runs faster than three small ones (and quantises the input once), then the result is split.
        string fused = p + "query_key_value";
        if (!_weights.ContainsKey(fused + ".weight"))
        {
            _weights[fused + ".weight"] = cat(new[] { "query", "key", "value" }.Select(n => _weights[p + n + ".weight"]).ToList(), 0);
            if (_weights.ContainsKey(p + "query.bias"))
                _weights[fused + ".bias"] = cat(new[] { "query", "key", "value" }.Select(n => _weights[p + n + ".bias"]).ToList(), 0);
        }
        long width = _config.HiddenSize;
        var parts = _g.Nodes("Split", [Linear(hidden, fused), _g.Int64s([width, width, width])], 3, attributes: ("axis", -1L));
        string Heads(string part) => _g.Node("Transpose", [_g.Node("Reshape", [part, split])], attributes: ("perm", new long[] { 0, 2, 1, 3 }));
        string q = Heads(parts[0]);
        string k = Heads(parts[1]);
        string v = Heads(parts[2]);
        string scores = _g.Node("MatMul", [q, _g.Node("Transpose", [k], attributes: ("perm", new long[] { 0, 1, 3, 2 }))]);
        if (window is not null)
        {
            // Hugging Face's relative_key(_query): query (and key) dotted with the vector of their distance.
            string vectors = _g.Node("Slice", [Weight(p + "distance_embedding.weight"), window.Start, window.End, _g.Int64s([0])]);
            string vectorsT = _g.Node("Transpose", [vectors], attributes: ("perm", new long[] { 1, 0 }));
            string queryScores = _g.Node("MatMul", [q, vectorsT]);
            scores = _g.Node("Add", [scores, _g.Node("GatherElements", [queryScores, window.Columns], attributes: ("axis", 3L))]);
            if (_config.PositionEmbeddingType == "relative_key_query")
            {
                // Key j against distance i - j: row j of the key's product, column i - j + L - 1; transposed, a gather along rows.
                string keyScores = _g.Node("Transpose", [_g.Node("MatMul", [k, vectorsT])], attributes: ("perm", new long[] { 0, 1, 3, 2 }));
                scores = _g.Node("Add", [scores, _g.Node("GatherElements", [keyScores, window.Columns], attributes: ("axis", 2L))]);
            }
        }
        scores = _g.Node("Add", [_g.Node("Div", [scores, _g.Float(MathF.Sqrt(size))]), additiveMask]);
        string probabilities = _g.Node("Softmax", [scores], attributes: ("axis", -1L));
        string context = _g.Node("Transpose", [_g.Node("MatMul", [probabilities, v])], attributes: ("perm", new long[] { 0, 2, 1, 3 }));
        return _g.Node("Reshape", [context, _g.Int64s([0, 0, _config.HiddenSize])]);
    }

    // cls.predictions.transform and generator_predictions: dense, activation, LayerNorm.
    private string Transform(string hidden, string name, string activation)
    {
        _g.Scope = name;
        return LayerNorm(Activation(Linear(hidden, name + ".dense"), activation), name + ".LayerNorm");
    }

    // The vocabulary projection tied to the word embeddings: kept unquantised, like the embeddings.
    private string Decoder(string transformed, string wordEmbeddings, string bias, string output)
    {
        string weight = _g.Node("Transpose", [Weight(wordEmbeddings)], attributes: ("perm", new long[] { 1, 0 }));
        return _g.Node("Add", [_g.Node("MatMul", [transformed, weight]), Weight(bias)], output);
    }

    private string LayerNorm(string x, string name)
    {
        string normalised = _g.Node("LayerNormalization", [x, Weight(name + ".weight"), Weight(name + ".bias")], attributes: [("axis", -1L), ("epsilon", (float)_config.LayerNormEps)]);
        _int8?.LayerNormOutput(normalised, _weights[name + ".weight"], _weights[name + ".bias"]);
        return normalised;
    }

    /// <summary>x times the transposed weight of nn.Linear <paramref name="name"/>, plus its bias when it has one; int8 when quantising.</summary>
    private string Linear(string x, string name, string? output = null)
    {
        var weight = _weights.TryGetValue(name + ".weight", out var w) ? w : throw new InvalidInputException($"the model has no weight {name}.weight");
        bool bias = _weights.ContainsKey(name + ".bias");
        string product = _int8 is null
            ? _g.Node("MatMul", [x, TransposedWeight(name + ".weight", weight)], bias ? null : output)
            : _int8.MatMul(x, name + ".weight", weight, bias ? null : output);
        return bias ? _g.Node("Add", [product, Weight(name + ".bias")], output) : product;
    }

    private readonly HashSet<string> _written = new(StringComparer.Ordinal);

    private string Weight(string name)
    {
        if (_written.Add(name))
            _g.Initializer(name, _weights.TryGetValue(name, out var value) ? value : throw new InvalidInputException($"the model has no weight {name}"));
        return name;
    }

    private string TransposedWeight(string name, Tensor weight)
    {
        string transposed = name + ".T";
        if (_written.Add(transposed))
        {
            using var t = weight.t();
            _g.Initializer(transposed, t);
        }
        return transposed;
    }

    private string Activation(string x, string name)
    {
        switch (name)
        {
            case "gelu":
                {
                    // 0.5 x (1 + erf(x / sqrt 2)): the exact GELU, in the form ONNX Runtime fuses.
                    string erf = _g.Node("Erf", [_g.Node("Div", [x, _g.Float(MathF.Sqrt(2f))])]);
                    return _g.Node("Mul", [_g.Node("Mul", [x, _g.Node("Add", [erf, _g.Float(1f)])]), _g.Float(0.5f)]);
                }
            case "gelu_new" or "gelu_pytorch_tanh":
                {
                    string cube = _g.Node("Mul", [_g.Node("Mul", [x, x]), x]);
                    string inner = _g.Node("Add", [x, _g.Node("Mul", [cube, _g.Float(0.044715f)])]);
                    string t = _g.Node("Tanh", [_g.Node("Mul", [inner, _g.Float(MathF.Sqrt(2f / MathF.PI))])]);
                    return _g.Node("Mul", [_g.Node("Mul", [x, _g.Float(0.5f)]), _g.Node("Add", [t, _g.Float(1f)])]);
                }
            case "relu":
                return _g.Node("Relu", [x]);
            case "silu" or "swish":
                return _g.Node("Mul", [x, _g.Node("Sigmoid", [x])]);
            default:
                throw new InvalidInputException($"hidden_act '{name}' has no ONNX export");
        }
    }
}
