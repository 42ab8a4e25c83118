using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Tasks.Classification;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tasks.RelationExtraction;

/// <summary>
/// Relation extraction as classification of an entity pair (<see cref="BertForRelationClassification"/>): the input is the
/// text with <see cref="RelationMarkers"/> around the head and the tail, and the label is read from the two opening
/// markers. Fine-tuning a pretrained folder adds the markers to its vocabulary and word embeddings.
/// </summary>
public sealed class RelationClassifier : IDisposable
{
    /// <summary>The label that means "no relation" unless told otherwise (TACRED's).</summary>
    public const string DefaultNegativeLabel = "no_relation";

    private readonly Dictionary<string, int> _labelIds;
    private readonly int[] _markerIds;

    private RelationClassifier(BertForRelationClassification model, BertConfig config, BertTokenizer tokenizer, int maxLength)
    {
        Model = model;
        Config = config;
        Tokenizer = tokenizer;
        MaxLength = Math.Min(maxLength, config.MaxPositionEmbeddings);
        if (MaxLength < 8) throw new InvalidInputException($"--max-length {maxLength}: relation inputs need at least 8 tokens ([CLS], four markers, [SEP] and the entities).");
        _labelIds = config.Labels.Select((label, id) => (label, id)).ToDictionary(p => p.label, p => p.id);
        _markerIds = RelationMarkers.All.Select(m => tokenizer.Vocabulary.TryGetId(m, out int id) ? id
            : throw new InvalidInputException($"the model's vocab.txt has no {m}; fine-tune it with 'finetune relation', which adds the entity markers.")).ToArray();
    }

    /// <summary>The TorchSharp model.</summary>
    public BertForRelationClassification Model { get; }
    /// <summary>Its config, labels included.</summary>
    public BertConfig Config { get; }
    /// <summary>The tokenizer, whose vocabulary holds the markers.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>Longest input in tokens; the context is cut to fit, the entities last.</summary>
    public int MaxLength { get; }

    /// <summary>
    /// A new relation classifier for <paramref name="labels"/> on the encoder of a pretrained folder. Markers the vocabulary lacks
    /// are appended to it, and their embeddings start at the mean of the others plus noise of the initializer range
    /// (distinct, so that the model can tell head from tail from the first step). The head starts from the current torch seed.
    /// </summary>
    public static RelationClassifier FromPretrained(string directory, IReadOnlyList<string> labels, int maxLength)
    {
        var loaded = BertConfig.Load(directory);
        var pretrained = HuggingFaceCheckpoint.LoadTokenizer(directory);
        HuggingFaceCheckpoint.CheckVocabulary(loaded, pretrained.Vocabulary, directory);
        var added = RelationMarkers.All.Where(m => !pretrained.Vocabulary.TryGetId(m, out _)).ToList();
        var vocabulary = new Vocabulary(pretrained.Vocabulary.Tokens.Concat(added), directory);
        var config = loaded with { VocabSize = vocabulary.Count, Labels = labels, Architecture = loaded.ClassName("ForRelationClassification"), Crf = false };
        var model = new BertForRelationClassification(config);
        var weights = HuggingFaceCheckpoint.ReadWeights(directory);
        try
        {
            if (added.Count > 0)
            {
                string key = weights.Keys.FirstOrDefault(k => k.EndsWith("embeddings.word_embeddings.weight", StringComparison.Ordinal) && !k.Contains("generator", StringComparison.Ordinal))
                    ?? throw new InvalidInputException($"{directory}: the checkpoint has no word embeddings.");
                var old = weights[key];
                using var mean = old.mean([0], keepdim: true);
                using var noise = randn(added.Count, old.shape[1], dtype: old.dtype) * config.InitializerRange;
                using var rows = mean + noise;
                weights[key] = cat([old, rows], 0);
                old.Dispose();
            }
            HuggingFaceCheckpoint.Load(model, weights, directory).RequireEncoder(config, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (var tensor in weights.Values) tensor.Dispose();
        }
        return new RelationClassifier(model, config, new BertTokenizer(vocabulary, pretrained.Lowercase), maxLength);
    }

    /// <summary>A fine-tuned relation classifier saved in <paramref name="directory"/>, truncating at <paramref name="maxLength"/> or at the length it was fine-tuned at.</summary>
    public static RelationClassifier Load(string directory, int? maxLength = null)
    {
        var config = TaskModelFolder.ConfigOf(directory, "ForRelationClassification");
        var model = new BertForRelationClassification(config);
        try
        {
            TaskModelFolder.LoadAll(model, config, directory);
            model.eval();
            return new RelationClassifier(model, config, HuggingFaceCheckpoint.LoadTokenizer(directory), maxLength ?? HuggingFaceCheckpoint.ModelMaxLength(directory, config));
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The label set of training data in a stable order (ordinal sort), as config.json's id2label.</summary>
    public static List<string> LabelsOf(IEnumerable<RelationExample> examples) => examples.Select(e => e.Label!).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>
    /// [CLS] text [SEP] with [E1] [/E1] around the head and [E2] [/E2] around the tail, and the positions of [E1] and [E2].
    /// A long input loses context from its far ends first, then from between the entities, then from the entities' own ends.
    /// </summary>
    public (EncodedText Encoding, int HeadMarker, int TailMarker) Encode(RelationExample example)
    {
        bool headFirst = example.Head.Start < example.Tail.Start;
        var (first, second) = headFirst ? (example.Head, example.Tail) : (example.Tail, example.Head);
        string text = example.Text;
        var before = Ids(text[..first.Start]);
        var firstIds = Ids(text[first.Start..first.End]);
        var between = Ids(text[first.End..second.Start]);
        var secondIds = Ids(text[second.Start..second.End]);
        var after = Ids(text[second.End..]);
        int room = MaxLength - 2 - 4;
        int Total() => before.Count + firstIds.Count + between.Count + secondIds.Count + after.Count;
        int excess = Total() - room;
        // Cut one token at a time from whichever part may lose one: the longer far end, then the middle, then the entities.
        while (excess > 0)
        {
            if (before.Count > 0 || after.Count > 0)
            {
                if (before.Count >= after.Count) before.RemoveAt(0); else after.RemoveAt(after.Count - 1);
            }
            else if (between.Count > 0) between.RemoveAt(between.Count / 2);
            else if (firstIds.Count >= secondIds.Count && firstIds.Count > 1) firstIds.RemoveAt(firstIds.Count - 1);
            else if (secondIds.Count > 1) secondIds.RemoveAt(secondIds.Count - 1);
            else break;
            excess--;
        }
        int open1 = headFirst ? _markerIds[0] : _markerIds[2], close1 = headFirst ? _markerIds[1] : _markerIds[3];
        int open2 = headFirst ? _markerIds[2] : _markerIds[0], close2 = headFirst ? _markerIds[3] : _markerIds[1];
        var ids = new List<int>(MaxLength) { Tokenizer.Vocabulary.ClassifierId };
        ids.AddRange(before);
        int firstMarker = ids.Count;
        ids.Add(open1);
        ids.AddRange(firstIds);
        ids.Add(close1);
        ids.AddRange(between);
        int secondMarker = ids.Count;
        ids.Add(open2);
        ids.AddRange(secondIds);
        ids.Add(close2);
        ids.AddRange(after);
        ids.Add(Tokenizer.Vocabulary.SeparatorId);
        var array = ids.ToArray();
        var encoding = new EncodedText(Tokenizer.Vocabulary, array, new int[array.Length], new int[array.Length], new TokenOffset[array.Length]);
        return headFirst ? (encoding, firstMarker, secondMarker) : (encoding, secondMarker, firstMarker);
    }

    /// <summary>Mean cross-entropy of a batch of labelled examples, and its tokens.</summary>
    public (Tensor Loss, long Tokens) Loss(IReadOnlyList<RelationExample> batch)
    {
        using var scope = NewDisposeScope();
        var gold = tensor(batch.Select(e => e.Label is { } label && _labelIds.TryGetValue(label, out int id) ? (long)id
            : throw new InvalidInputException($"label '{e.Label}' is not one of the model's labels ({string.Join(", ", Config.Labels)}).")).ToArray());
        var (logits, tokens) = Logits(batch);
        return (nn.functional.cross_entropy(logits, gold).MoveToOuterDisposeScope(), tokens);
    }

    /// <summary>The most probable relation of every example, with its softmax probability.</summary>
    public List<PredictedLabel> Predict(IReadOnlyList<RelationExample> examples, int batchSize = 32)
    {
        var predictions = new List<PredictedLabel>(examples.Count);
        using var _ = no_grad();
        for (int from = 0; from < examples.Count; from += batchSize)
        {
            using var scope = NewDisposeScope();
            var (logits, _) = Logits(examples.Skip(from).Take(batchSize).ToList());
            var (values, indices) = logits.softmax(-1).max(-1);
            float[] scores = values.data<float>().ToArray();
            long[] ids = indices.data<long>().ToArray();
            for (int i = 0; i < ids.Length; i++) predictions.Add(new PredictedLabel(Config.Labels[(int)ids[i]], scores[i]));
        }
        return predictions;
    }

    /// <summary>TACRED's micro precision, recall and F1 without <paramref name="negativeLabel"/>, and accuracy.</summary>
    public RelationMetrics Evaluate(IReadOnlyList<RelationExample> examples, string negativeLabel = DefaultNegativeLabel, int batchSize = 32) =>
        RelationMetrics.Of(examples.Select(e => e.Label!).ToList(), Predict(examples, batchSize).Select(p => p.Label).ToList(), negativeLabel);

    /// <summary>Writes the model folder: config.json with id2label, vocab.txt with the markers, tokenizer_config.json, model.safetensors.</summary>
    public void Save(string directory) => HuggingFaceCheckpoint.Save(Model, Config, Tokenizer.Vocabulary, directory, Tokenizer.Lowercase, modelMaxLength: MaxLength);

    private (Tensor Logits, long Tokens) Logits(IReadOnlyList<RelationExample> batch)
    {
        var encoded = batch.Select(Encode).ToList();
        using var inputs = new EncodedBatch(encoded.Select(e => e.Encoding).ToList(), Tokenizer.Vocabulary);
        using var markers = tensor(encoded.SelectMany(e => new long[] { e.HeadMarker, e.TailMarker }).ToArray(), batch.Count, 2);
        Model.MarkerPositions = markers;
        try { return (Model.call(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask), encoded.Sum(e => (long)e.Encoding.Length)); }
        finally { Model.MarkerPositions = null; }
    }

    private List<int> Ids(string text)
    {
        var ids = new List<int>();
        Tokenizer.AppendIds(text, ids);
        return ids;
    }

    /// <inheritdoc/>
    public void Dispose() => Model.Dispose();
}
