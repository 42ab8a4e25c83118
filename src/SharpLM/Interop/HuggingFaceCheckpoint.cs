using TorchSharp;
using TorchSharp.PyBridge;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Interop;

/// <summary>What loading a checkpoint into a model found: parameters it had no value for, and values it had no parameter for.</summary>
public sealed record CheckpointLoadReport(IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected)
{
    /// <summary>
    /// Refuses a load that left an encoder weight (bert.* or electra.*) without a value, the pooler excepted when
    /// <paramref name="poolerOptional"/>: heads may start new, the encoder must come from <paramref name="directory"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">An encoder weight is missing; the message names the first.</exception>
    public void RequireEncoder(BertConfig config, string directory, bool poolerOptional = true)
    {
        string prefix = config.EncoderName + ".";
        var missing = Missing.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)
            && !(poolerOptional && k.StartsWith(prefix + "pooler.", StringComparison.Ordinal))).ToList();
        if (missing.Count > 0)
            throw new InvalidInputException($"{directory}: the checkpoint lacks {missing.Count} encoder weights (first: {missing[0]}); it is not a complete {config.ModelType} encoder of this config.");
    }
}

/// <summary>
/// A model directory in Hugging Face's layout: config.json, vocab.txt and model.safetensors (or
/// pytorch_model.bin), with Hugging Face parameter names. Loads full BertForPreTraining checkpoints,
/// and bare BertModel ones (names without the "bert." prefix, no heads) into the encoder.
/// </summary>
public static class HuggingFaceCheckpoint
{
    /// <summary>File name of the weights SharpLM writes.</summary>
    public const string WeightsFile = "model.safetensors";

    /// <summary>File name of PyTorch pickled weights, read as a fallback.</summary>
    public const string PyTorchWeightsFile = "pytorch_model.bin";

    // Names Hugging Face may write that are not parameters of their own here: the decoder shares the
    // word embeddings and the prediction bias, and position_ids is a constant buffer.
    private static readonly string[] Aliases = ["cls.predictions.decoder.weight", "cls.predictions.decoder.bias", "generator_lm_head.weight"];

    /// <summary>
    /// Writes config.json, vocab.txt, tokenizer_config.json and model.safetensors into <paramref name="directory"/>,
    /// each atomically. <paramref name="shared"/> adds weights the model uses but another module owns
    /// (ELECTRA's generator embeds with the discriminator's embeddings), under their names in this model.
    /// <paramref name="modelMaxLength"/> goes to tokenizer_config.json's model_max_length (the model's
    /// positions when null): a fine-tuned model records the length it was trained at, so predicting and
    /// evaluating truncate as training did, as Hugging Face's pipelines do with that field.
    /// </summary>
    public static void Save(nn.Module model, BertConfig config, Vocabulary vocabulary, string directory, bool lowercase = true,
        IEnumerable<(string Name, Tensor Value)>? shared = null, int? modelMaxLength = null)
    {
        if (vocabulary.Count != config.VocabSize)
            throw new InvalidInputException($"{directory}: the vocabulary has {vocabulary.Count} tokens but the model's vocab_size is {config.VocabSize}.");
        SaveWeights(model, directory, shared);
        SaveTokenizer(vocabulary, lowercase, modelMaxLength ?? config.MaxPositionEmbeddings, directory);
        config.Save(Path.Combine(directory, "config.json"));
    }

    /// <summary>
    /// Writes model.safetensors into <paramref name="directory"/> (created if needed) atomically: every parameter of
    /// <paramref name="model"/> under its name, and the <paramref name="shared"/> weights it uses but another module owns.
    /// </summary>
    public static void SaveWeights(nn.Module model, string directory, IEnumerable<(string Name, Tensor Value)>? shared = null)
    {
        Directory.CreateDirectory(directory);
        var state = new Dictionary<string, Tensor>();
        foreach (var (name, parameter) in model.named_parameters()) state[name] = parameter.detach().contiguous();
        foreach (var (name, value) in shared ?? []) state[name] = value.detach().contiguous();
        try { AtomicFile.Write(Path.Combine(directory, WeightsFile), stream => Safetensors.SaveStateDict(stream, state, leaveOpen: true)); }
        finally { foreach (var tensor in state.Values) tensor.Dispose(); }
    }

    /// <summary>Writes vocab.txt and tokenizer_config.json (do_lower_case, model_max_length) into <paramref name="directory"/>, each atomically.</summary>
    public static void SaveTokenizer(Vocabulary vocabulary, bool lowercase, int modelMaxLength, string directory)
    {
        vocabulary.Save(Path.Combine(directory, "vocab.txt"));
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"),
            $"{{\n  \"tokenizer_class\": \"BertTokenizer\",\n  \"do_lower_case\": {(lowercase ? "true" : "false")},\n  \"model_max_length\": {modelMaxLength}\n}}\n");
    }

    /// <summary>
    /// Reads the tokenizer of a model directory: vocab.txt, lowercasing as tokenizer_config.json's
    /// do_lower_case says (true when absent, as for BERT's uncased models).
    /// </summary>
    public static BertTokenizer LoadTokenizer(string directory)
    {
        bool lowercase = TokenizerSetting(directory, "do_lower_case", "true or false", value => value.GetValue<bool>()) ?? true;
        return new BertTokenizer(Vocabulary.Load(directory), lowercase);
    }

    /// <summary>
    /// The longest input a model directory's tokenizer takes: tokenizer_config.json's model_max_length,
    /// capped by the config's positions. Hugging Face writes a huge number there when a tokenizer has no
    /// limit of its own; that, or no field, gives the positions.
    /// </summary>
    public static int ModelMaxLength(string directory, BertConfig config)
    {
        long? saved = TokenizerSetting(directory, "model_max_length", "a number", value => (long)value.GetValue<double>());
        return saved is > 0 and var length && length < config.MaxPositionEmbeddings ? (int)length : config.MaxPositionEmbeddings;
    }

    private static T? TokenizerSetting<T>(string directory, string field, string expected, Func<System.Text.Json.Nodes.JsonNode, T> read) where T : struct
    {
        string settings = Path.Combine(directory, "tokenizer_config.json");
        if (!File.Exists(settings)) return null;
        try
        {
            return System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(settings))?[field] is { } value ? read(value) : null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidOperationException or FormatException)
        {
            throw new InvalidInputException($"{settings}: not valid JSON, or {field} is not {expected} ({e.Message}).");
        }
    }

    /// <summary>
    /// Loads a model directory's weights into <paramref name="model"/> and checks that its vocabulary
    /// fits the config. Returns what was missing or unexpected.
    /// </summary>
    public static CheckpointLoadReport LoadDirectory(nn.Module model, BertConfig config, string directory)
    {
        CheckVocabulary(config, directory);
        return LoadWeights(model, directory);
    }

    /// <summary>
    /// Reads a model directory's weights into <paramref name="model"/> by name, for any architecture (no vocabulary check),
    /// and lets the read tensors go. Returns what was missing or unexpected.
    /// </summary>
    public static CheckpointLoadReport LoadWeights(nn.Module model, string directory)
    {
        var weights = ReadWeights(directory);
        try { return Load(model, weights, directory); }
        finally { foreach (var tensor in weights.Values) tensor.Dispose(); }
    }

    /// <summary>
    /// <see cref="LoadDirectory(nn.Module, BertConfig, string)"/> with the directory's weights already read
    /// by <see cref="ReadWeights"/> (for a caller that looks at their names first); the caller disposes them.
    /// </summary>
    public static CheckpointLoadReport LoadDirectory(nn.Module model, BertConfig config, string directory, IReadOnlyDictionary<string, Tensor> weights)
    {
        CheckVocabulary(config, directory);
        return Load(model, weights, directory);
    }

    private static void CheckVocabulary(BertConfig config, string directory) => CheckVocabulary(config, Vocabulary.Load(directory), directory);

    /// <summary>Refuses a folder whose vocab.txt (already loaded as <paramref name="vocabulary"/>) does not have config.json's vocab_size tokens.</summary>
    internal static void CheckVocabulary(BertConfig config, Vocabulary vocabulary, string directory)
    {
        if (vocabulary.Count != config.VocabSize)
            throw new InvalidInputException($"{directory}: vocab.txt has {vocabulary.Count} tokens but config.json says vocab_size {config.VocabSize}.");
    }

    /// <summary>Reads the weights of a model directory (model.safetensors, else pytorch_model.bin) or of a weights file.</summary>
    public static Dictionary<string, Tensor> ReadWeights(string path)
    {
        if (Directory.Exists(path))
        {
            string safetensors = Path.Combine(path, WeightsFile), pickled = Path.Combine(path, PyTorchWeightsFile);
            path = File.Exists(safetensors) ? safetensors : File.Exists(pickled) ? pickled
                : throw new InvalidInputException($"{path}: no {WeightsFile} or {PyTorchWeightsFile} in the model folder.");
        }
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: weights file not found.");
        try
        {
            if (path.EndsWith(".bin", StringComparison.Ordinal) || path.EndsWith(".pt", StringComparison.Ordinal))
                return RestrictedUnpickler.ReadStateDict(path);
            SafetensorsHeader.Verify(path);
            return Safetensors.LoadStateDict(path);
        }
        catch (Exception e) when (e is not InvalidInputException)
        {
            throw new InvalidInputException($"{path}: cannot read the weights ({e.Message}).", e);
        }
    }

    /// <summary>
    /// Copies <paramref name="weights"/> into <paramref name="model"/> by Hugging Face name. A bare
    /// BertModel checkpoint fills the "bert." part of a BertForPreTraining; a BertForPreTraining
    /// checkpoint fills a BertModel (its heads are then unexpected).
    /// </summary>
    /// <exception cref="InvalidInputException">A weight's shape differs from its parameter's; the message names both.</exception>
    public static CheckpointLoadReport Load(nn.Module model, IReadOnlyDictionary<string, Tensor> weights, string source)
    {
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        // The encoder's prefix: bert. for BERT, electra. for ELECTRA (Hugging Face's field names).
        string? EncoderPrefix(IEnumerable<string> names) =>
            names.Any(k => k.StartsWith("bert.", StringComparison.Ordinal)) ? "bert."
            : names.Any(k => k.StartsWith("electra.", StringComparison.Ordinal)) ? "electra." : null;
        string? modelPrefix = EncoderPrefix(parameters.Keys), weightsPrefix = EncoderPrefix(weights.Keys);
        bool IsHead(string key) => key.StartsWith("cls.", StringComparison.Ordinal) || key.StartsWith("discriminator_predictions.", StringComparison.Ordinal)
            || key.StartsWith("generator_", StringComparison.Ordinal);
        string Rename(string key) =>
            modelPrefix is not null && weightsPrefix is null && !IsHead(key) ? modelPrefix + key
            : modelPrefix is null && weightsPrefix is not null && key.StartsWith(weightsPrefix, StringComparison.Ordinal) ? key[weightsPrefix.Length..]
            : key;

        var filled = new HashSet<string>();
        var unexpected = new List<string>();
        using (no_grad())
        {
            foreach (var (key, value) in weights)
            {
                if (Aliases.Contains(key) || key.EndsWith("position_ids", StringComparison.Ordinal)) continue;
                string name = Rename(key);
                if (!parameters.TryGetValue(name, out var parameter)) { unexpected.Add(key); continue; }
                if (!parameter.shape.SequenceEqual(value.shape))
                    throw new InvalidInputException($"{source}: {key} has shape [{string.Join(", ", value.shape)}] but the model's {name} is [{string.Join(", ", parameter.shape)}]; the checkpoint does not fit this config.");
                parameter.copy_(value);
                filled.Add(name);
            }
        }
        var missing = parameters.Keys.Where(k => !filled.Contains(k)).ToList();
        return new CheckpointLoadReport(missing, unexpected);
    }
}
