using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tasks.TokenClassification;

/// <summary>
/// A piece of a sentence that fits the model: [CLS] the pieces of some consecutive words [SEP], the
/// position of each word's first piece, and the words' tag ids (empty when unlabelled).
/// </summary>
public sealed record TaggedChunk(EncodedText Encoding, int[] WordPositions, int[] TagIds);

/// <summary>An entity found in text: its type, its text, character offsets, and the mean probability of its tags.</summary>
public sealed record PredictedEntity(string EntityGroup, string Word, int Start, int End, double Score);

/// <summary>
/// Token classification (named entities, or any per-word tags) with a <see cref="BertForTokenClassification"/>.
/// A word's tag is predicted at its first sub-word and the others are ignored, as Hugging Face's
/// examples do; the CRF, when present, scores whole tag sequences of words. A sentence longer than the
/// model takes is cut into consecutive chunks of whole words, so every word gets a tag.
/// </summary>
public sealed class TokenTagger : IDisposable
{
    /// <summary>The architecture name written to config.json (Hugging Face's; the CRF is SharpLM's extra).</summary>
    public const string Architecture = "BertForTokenClassification";

    private readonly Dictionary<string, int> _tagIds;
    private readonly BertForTokenClassification? _model;
    private readonly OnnxRuntimeModel? _onnx;
    private readonly ConditionalRandomField? _crf;

    private TokenTagger(BertForTokenClassification? model, OnnxRuntimeModel? onnx, ConditionalRandomField? crf, BertConfig config, BertTokenizer tokenizer, int maxLength)
    {
        _model = model;
        _onnx = onnx;
        _crf = crf;
        Config = config;
        Tokenizer = tokenizer;
        MaxLength = Math.Min(maxLength, config.MaxPositionEmbeddings);
        _tagIds = config.Labels.Select((label, id) => (label, id)).ToDictionary(p => p.label, p => p.id);
    }

    /// <summary>The TorchSharp model (for training); a tagger run by ONNX Runtime has none.</summary>
    public BertForTokenClassification Model => _model ?? throw new InvalidOperationException("a tagger run by ONNX Runtime only predicts.");
    /// <summary>Its config, tags (labels) included.</summary>
    public BertConfig Config { get; }
    /// <summary>The tokenizer of the model folder.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>Most tokens per chunk, [CLS] and [SEP] included.</summary>
    public int MaxLength { get; }

    /// <summary>A new tagger for <paramref name="tags"/> on the encoder of a pretrained folder, with or without a CRF.</summary>
    public static TokenTagger FromPretrained(string directory, IReadOnlyList<string> tags, bool crf, int maxLength)
    {
        var loaded = BertConfig.Load(directory);
        var config = loaded with { Labels = tags, Architecture = loaded.ClassName("ForTokenClassification"), Crf = crf };
        var model = new BertForTokenClassification(config);
        TaskModelFolder.LoadEncoder(model, config, directory);
        return new TokenTagger(model, null, model.Crf, config, HuggingFaceCheckpoint.LoadTokenizer(directory), maxLength);
    }

    /// <summary>
    /// A new tagger of <paramref name="config"/> (its tags and CRF choice included) with Hugging Face's random initialisation from
    /// the current torch seed, reading text with <paramref name="tokenizer"/>: a distillation student of a preset size.
    /// </summary>
    public static TokenTagger Create(BertConfig config, BertTokenizer tokenizer, int maxLength)
    {
        HuggingFaceCheckpoint.CheckVocabulary(config, tokenizer.Vocabulary, "the student");
        config = config with { Architecture = config.ClassName("ForTokenClassification") };
        var model = new BertForTokenClassification(config);
        return new TokenTagger(model, null, model.Crf, config, tokenizer, maxLength);
    }

    /// <summary>
    /// A fine-tuned tagger saved in <paramref name="directory"/>, cutting sentences into chunks of at most
    /// <paramref name="maxLength"/> tokens or, by default, of the length it was fine-tuned at (tokenizer_config.json's model_max_length).
    /// </summary>
    public static TokenTagger Load(string directory, int? maxLength = null, InferenceEngine engine = InferenceEngine.Torch)
    {
        if (engine == InferenceEngine.Onnx)
        {
            var runtime = TaskModelFolder.LoadExported(directory, "ForTokenClassification");
            try
            {
                var exported = runtime.Config;
                string crfFile = Path.Combine(runtime.Directory, OnnxExport.CrfFile);
                if (exported.Crf && !File.Exists(crfFile)) throw new InvalidInputException($"{runtime.Directory}: config.json says sharplm_crf but {OnnxExport.CrfFile} is missing.");
                var crf = exported.Crf ? OnnxExport.ReadCrf(crfFile, exported.Labels) : null;
                return new TokenTagger(null, runtime, crf, exported, runtime.Tokenizer, maxLength ?? runtime.MaxLength);
            }
            catch
            {
                runtime.Dispose();
                throw;
            }
        }
        var config = TaskModelFolder.ConfigOf(directory, "ForTokenClassification");
        var model = new BertForTokenClassification(config);
        TaskModelFolder.LoadAll(model, config, directory);
        model.eval();
        return new TokenTagger(model, null, model.Crf, config, HuggingFaceCheckpoint.LoadTokenizer(directory), maxLength ?? HuggingFaceCheckpoint.ModelMaxLength(directory, config));
    }

    /// <summary>The tag set of training data: O first (when present), then the others in ordinal order.</summary>
    public static List<string> TagsOf(IEnumerable<TaggedSentence> sentences)
    {
        var tags = sentences.SelectMany(s => s.Tags ?? []).Distinct().Order(StringComparer.Ordinal).ToList();
        if (tags.Remove("O")) tags.Insert(0, "O");
        return tags;
    }

    /// <summary>Cuts sentences into model-sized chunks of whole words; labelled sentences keep their tag ids.</summary>
    public List<TaggedChunk> Chunks(IReadOnlyList<TaggedSentence> sentences) => sentences.SelectMany(s => Chunk(s)).ToList();

    /// <summary>Mean loss of a batch of labelled chunks: CRF negative log-likelihood per chunk, or cross-entropy per word.</summary>
    public (Tensor Loss, long Tokens) Loss(IReadOnlyList<TaggedChunk> batch)
    {
        using var scope = NewDisposeScope();
        var (emissions, mask) = WordEmissions(batch);
        return (GoldLoss(batch, emissions, mask).MoveToOuterDisposeScope(), batch.Sum(c => (long)c.Encoding.Length));
    }

    /// <summary>The loss of the gold tags given the word emissions of a batch: CRF negative log-likelihood, or cross-entropy per word.</summary>
    internal Tensor GoldLoss(IReadOnlyList<TaggedChunk> batch, Tensor emissions, Tensor mask)
    {
        int words = (int)mask.shape[1];
        var tags = new long[batch.Count * words];
        for (int b = 0; b < batch.Count; b++)
            for (int w = 0; w < batch[b].TagIds.Length; w++) tags[b * words + w] = batch[b].TagIds[w];
        using var gold = tensor(tags, batch.Count, words);
        if (Model.Crf is { } crf) return crf.NegativeLogLikelihood(emissions, gold, mask);
        using var real = emissions[mask];
        using var realGold = gold[mask];
        return nn.functional.cross_entropy(real, realGold);
    }

    /// <summary>
    /// The raw scores (emissions, in <see cref="BertConfig.Labels"/> order) of every word of every sentence, [sentence][word][tag]:
    /// what a distillation student learns from.
    /// </summary>
    public List<float[][]> WordLogits(IReadOnlyList<IReadOnlyList<string>> sentences, int batchSize = 32) => Score(sentences, batchSize).Logits;

    /// <summary>
    /// In one pass of the model, every word's raw scores [sentence][word][tag] and the tags <see cref="Predict"/> gives it:
    /// a teacher labelling transfer text scores it once.
    /// </summary>
    internal (List<float[][]> Logits, List<string[]> Tags) Score(IReadOnlyList<IReadOnlyList<string>> sentences, int batchSize = 32)
    {
        var rows = sentences.Select(_ => new List<float[]>()).ToList();
        var tags = sentences.Select(_ => new List<string>()).ToList();
        foreach (var (batch, emissions, mask) in EmissionBatches(sentences, batchSize))
        {
            long words = emissions.shape[1], k = emissions.shape[2];
            float[] flat = emissions.data<float>().ToArray();
            var paths = Paths(batch, emissions, mask);
            for (int b = 0; b < batch.Count; b++)
                for (int w = 0; w < paths[b].Length; w++)
                {
                    rows[batch[b].Sentence].Add(flat[(int)((b * words + w) * k)..(int)((b * words + w + 1) * k)]);
                    tags[batch[b].Sentence].Add(Config.Labels[paths[b][w]]);
                }
        }
        return (rows.Select(r => r.ToArray()).ToList(), tags.Select(t => t.ToArray()).ToList());
    }

    /// <summary>The tag of every word of every sentence, with its probability (softmax of the word's scores).</summary>
    public List<(string[] Tags, double[] Scores)> Predict(IReadOnlyList<IReadOnlyList<string>> sentences, int batchSize = 32)
    {
        var tags = sentences.Select(_ => new List<string>()).ToList();
        var scores = sentences.Select(_ => new List<double>()).ToList();
        foreach (var (batch, emissions, mask) in EmissionBatches(sentences, batchSize))
        {
            long words = emissions.shape[1], k = emissions.shape[2];
            float[] probabilities = emissions.softmax(-1).data<float>().ToArray();
            var paths = Paths(batch, emissions, mask);
            for (int b = 0; b < batch.Count; b++)
                for (int w = 0; w < paths[b].Length; w++)
                {
                    tags[batch[b].Sentence].Add(Config.Labels[paths[b][w]]);
                    scores[batch[b].Sentence].Add(probabilities[(b * words + w) * k + paths[b][w]]);
                }
        }
        return tags.Select((t, s) => (t.ToArray(), scores[s].ToArray())).ToList();
    }

    // The sentences cut into chunks and run through the model a batch at a time, without gradients; each batch's
    // tensors live until the caller moves to the next one.
    private IEnumerable<(List<(int Sentence, TaggedChunk Chunk)> Batch, Tensor Emissions, Tensor Mask)> EmissionBatches(IReadOnlyList<IReadOnlyList<string>> sentences, int batchSize)
    {
        var chunks = new List<(int Sentence, TaggedChunk Chunk)>();
        for (int s = 0; s < sentences.Count; s++)
            foreach (var chunk in Chunk(new TaggedSentence(sentences[s], null))) chunks.Add((s, chunk));
        using var _ = no_grad();
        for (int from = 0; from < chunks.Count; from += batchSize)
        {
            using var scope = NewDisposeScope();
            var batch = chunks.Skip(from).Take(batchSize).ToList();
            var (emissions, mask) = WordEmissions(batch.Select(c => c.Chunk).ToList());
            yield return (batch, emissions, mask);
        }
    }

    // Each chunk's tag ids: the CRF's Viterbi path, or the argmax of each word's scores.
    private List<int[]> Paths(List<(int Sentence, TaggedChunk Chunk)> batch, Tensor emissions, Tensor mask) => _crf is { } crf
        ? crf.Decode(emissions, mask)
        : batch.Select((c, b) => emissions[b].argmax(-1).data<long>().Take(c.Chunk.WordPositions.Length).Select(t => (int)t).ToArray()).ToList();

    /// <summary>Entity precision, recall, F1 and word accuracy on labelled sentences.</summary>
    public EntityMetrics Evaluate(IReadOnlyList<TaggedSentence> sentences, int batchSize = 32) =>
        EntityMetrics.Of(sentences.Select(s => s.Tags!).ToList(), Predict(sentences.Select(s => s.Words).ToList(), batchSize).Select(p => (IReadOnlyList<string>)p.Tags).ToList());

    /// <summary>
    /// The entities of raw text with character offsets into it. Words are the tokenizer's words (a word
    /// and its ## pieces; punctuation apart; every CJK character alone), and an entity spans whole words.
    /// </summary>
    public List<PredictedEntity> PredictText(string text) => PredictTexts([text])[0];

    /// <summary>
    /// Where the words of raw text are, as the tagger sees them: the tokenizer's words (a word and its ## pieces; punctuation
    /// apart; every CJK character alone).
    /// </summary>
    public List<TokenOffset> WordOffsets(string text)
    {
        var words = new List<TokenOffset>();
        foreach (var (token, offset) in Tokenizer.Tokenize(text))
        {
            if (token.StartsWith("##", StringComparison.Ordinal) && words.Count > 0) words[^1] = words[^1] with { End = offset.End };
            else words.Add(offset);
        }
        return words;
    }

    /// <summary>The entities of each text, as <see cref="PredictText"/> finds them, with the texts batched together.</summary>
    public List<List<PredictedEntity>> PredictTexts(IReadOnlyList<string> texts, int batchSize = 32)
    {
        var wordsOf = texts.Select(WordOffsets).ToList();
        var tagged = wordsOf.Select((words, i) => (words, i)).Where(p => p.words.Count > 0).ToList();
        var predictions = Predict(tagged.Select(p => (IReadOnlyList<string>)p.words.Select(w => texts[p.i][w.Start..w.End]).ToList()).ToList(), batchSize);
        var entities = texts.Select(_ => new List<PredictedEntity>()).ToList();
        for (int n = 0; n < tagged.Count; n++)
        {
            var (words, i) = tagged[n];
            var (tags, scores) = predictions[n];
            entities[i] = EntitySpan.In(tags).Select(e => new PredictedEntity(e.Type, texts[i][words[e.Start].Start..words[e.End].End],
                words[e.Start].Start, words[e.End].End, scores[e.Start..(e.End + 1)].Average())).ToList();
        }
        return entities;
    }

    /// <summary>Writes the model folder (config.json with id2label and sharplm_crf, vocab.txt, tokenizer_config.json, model.safetensors).</summary>
    public void Save(string directory) => HuggingFaceCheckpoint.Save(Model, Config, Tokenizer.Vocabulary, directory, Tokenizer.Lowercase, modelMaxLength: MaxLength);

    private IEnumerable<TaggedChunk> Chunk(TaggedSentence sentence)
    {
        var vocabulary = Tokenizer.Vocabulary;
        int room = MaxLength - 2;
        var ids = new List<int> { vocabulary.ClassifierId };
        var positions = new List<int>();
        var tagIds = new List<int>();
        var pieces = new List<int>();
        TaggedChunk Finish()
        {
            ids.Add(vocabulary.SeparatorId);
            var array = ids.ToArray();
            var chunk = new TaggedChunk(new EncodedText(vocabulary, array, new int[array.Length], new int[array.Length], new TokenOffset[array.Length]),
                positions.ToArray(), tagIds.ToArray());
            ids.RemoveRange(1, ids.Count - 1);
            positions.Clear();
            tagIds.Clear();
            return chunk;
        }
        for (int w = 0; w < sentence.Words.Count; w++)
        {
            pieces.Clear();
            Tokenizer.AppendIds(sentence.Words[w], pieces);
            // A word the tokenizer drops entirely (a control character) still needs a position.
            if (pieces.Count == 0) pieces.Add(vocabulary.UnknownId);
            if (pieces.Count > room) pieces.RemoveRange(room, pieces.Count - room);
            if (ids.Count - 1 + pieces.Count > room) yield return Finish();
            positions.Add(ids.Count);
            ids.AddRange(pieces);
            if (sentence.Tags is { } tags)
                tagIds.Add(_tagIds.TryGetValue(tags[w], out int id) ? id
                    : throw new InvalidInputException($"tag '{tags[w]}' is not one of the model's tags ({string.Join(", ", Config.Labels)})."));
        }
        if (positions.Count > 0) yield return Finish();
    }

    // Emissions at each word's first piece, [batch, words, tags], and the mask of real words [batch, words].
    internal (Tensor Emissions, Tensor Mask) WordEmissions(IReadOnlyList<TaggedChunk> batch)
    {
        int words = batch.Max(c => c.WordPositions.Length);
        var positions = new long[batch.Count * words];
        var real = new bool[batch.Count * words];
        for (int b = 0; b < batch.Count; b++)
            for (int w = 0; w < batch[b].WordPositions.Length; w++)
            {
                positions[b * words + w] = batch[b].WordPositions[w];
                real[b * words + w] = true;
            }
        using var inputs = new EncodedBatch(batch.Select(c => c.Encoding).ToList(), Tokenizer.Vocabulary);
        using var emissions = _onnx is null ? Model.call(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask) : _onnx.Run(inputs, "logits")[0];
        using var index = tensor(positions, batch.Count, words).unsqueeze(-1).expand(-1, -1, emissions.shape[2]);
        return (emissions.gather(1, index), tensor(real, batch.Count, words));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _model?.Dispose();
        _onnx?.Dispose();
        if (_model is null) _crf?.Dispose();
    }
}
