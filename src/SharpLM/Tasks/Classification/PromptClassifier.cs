using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tasks.Classification;

/// <summary>
/// Classification through a masked LM's own head and a <see cref="ClozePrompt"/> (PET): the input is written into the
/// template, and each label is scored by the log-probability its verbalizer words get at the [MASK] (the log of their
/// summed probabilities when a label has several). Zero-shot it needs no training; fine-tuned on a few examples it
/// learns through the same head, which has seen far more text than a new classifier head has seen labels.
/// </summary>
public sealed class PromptClassifier : IDisposable
{
    private readonly nn.Module _module;
    private readonly IMaskedLanguageModel _model;
    private readonly int[][] _labelWords;
    private readonly Dictionary<string, int> _labelIds;
    private readonly (string Kind, int[] Ids)[] _template;
    private readonly bool _hasPair;
    private readonly int _textRoom;

    private PromptClassifier(nn.Module module, IMaskedLanguageModel model, BertTokenizer tokenizer, ClozePrompt prompt, int maxLength, string directory)
    {
        _module = module;
        _model = model;
        Tokenizer = tokenizer;
        Prompt = prompt;
        MaxLength = Math.Min(maxLength, model.Config.MaxPositionEmbeddings);
        var vocabulary = tokenizer.Vocabulary;
        if (vocabulary.MaskId < 0) throw new InvalidInputException($"{directory}: vocab.txt has no [MASK] token.");
        _labelWords = prompt.Verbalizer.Select(v => v.Words.Select(word =>
        {
            var ids = new List<int>();
            tokenizer.AppendIds(word, ids);
            return ids.Count == 1 && ids[0] != vocabulary.UnknownId ? ids[0]
                : throw new InvalidInputException($"--verbalizer: '{word}' is {(ids.Count == 1 ? "[UNK]" : $"{ids.Count} tokens ({string.Join(" ", ids.Select(i => vocabulary[i]))})")} in {directory}'s vocabulary; a verbalizer word must be one token of it.");
        }).ToArray()).ToArray();
        _labelIds = prompt.Labels.Select((label, id) => (label, id)).ToDictionary(p => p.label, p => p.id);
        _template = Parts(prompt.Template).Select(part => part switch
        {
            ClozePrompt.TextSlot or ClozePrompt.PairSlot => (part, Array.Empty<int>()),
            ClozePrompt.Mask => ("mask", [vocabulary.MaskId]),
            _ => ("literal", Ids(part)),
        }).ToArray();
        _hasPair = _template.Any(p => p.Kind == ClozePrompt.PairSlot);
        int fixedLength = 2 + _template.Sum(p => p.Ids.Length);
        _textRoom = MaxLength - fixedLength;
        if (fixedLength >= MaxLength) throw new InvalidInputException($"--prompt: the template alone takes {fixedLength} of the {MaxLength} tokens; shorten it or raise --max-length.");
    }

    /// <summary>The tokenizer of the model folder.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>The prompt and verbalizer.</summary>
    public ClozePrompt Prompt { get; }
    /// <summary>Longest input in tokens, template included; the text is truncated to fit.</summary>
    public int MaxLength { get; }
    /// <summary>The masked LM's config.</summary>
    public BertConfig Config => _model.Config;
    /// <summary>The masked LM (for training).</summary>
    public nn.Module Model => _module;

    /// <summary>
    /// The masked LM of <paramref name="directory"/> with <paramref name="prompt"/>, or with the prompt.json the folder
    /// holds (a prompt-tuned model); inputs are truncated at <paramref name="maxLength"/> or at the length the folder records.
    /// </summary>
    /// <exception cref="InvalidInputException">No prompt is given or saved, the folder has no masked-LM head, or a verbalizer word is not one token.</exception>
    public static PromptClassifier Load(string directory, ClozePrompt? prompt = null, int? maxLength = null)
    {
        prompt ??= ClozePrompt.Load(directory)
            ?? throw new InvalidInputException($"{directory}: no {ClozePrompt.FileName}; give --prompt and --verbalizer to classify with a masked LM.");
        var (module, model, _) = MaskedLanguageModelFolder.Load(directory);
        try
        {
            return new PromptClassifier(module, model, HuggingFaceCheckpoint.LoadTokenizer(directory), prompt, maxLength ?? HuggingFaceCheckpoint.ModelMaxLength(directory, model.Config), directory);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }

    /// <summary>The labels of labelled examples must all be the verbalizer's.</summary>
    public void CheckLabels(IEnumerable<ClassificationExample> examples, string source)
    {
        if (examples.FirstOrDefault(e => e.Label is { } label && !_labelIds.ContainsKey(label)) is { } unknown)
            throw new InvalidInputException($"{source}: label '{unknown.Label}' has no words in the verbalizer ({string.Join(", ", Prompt.Labels)}).");
    }

    /// <summary>Mean cross-entropy of the label scores against the gold labels of a batch, and its tokens (PET's loss).</summary>
    public (Tensor Loss, long Tokens) Loss(IReadOnlyList<ClassificationExample> batch)
    {
        using var scope = NewDisposeScope();
        var (scores, tokens) = LabelScores(batch);
        var gold = tensor(batch.Select(e => (long)_labelIds[e.Label ?? throw new InvalidInputException("an example has no label.")]).ToArray());
        return (nn.functional.cross_entropy(scores, gold).MoveToOuterDisposeScope(), tokens);
    }

    /// <summary>Every label of every example with its probability (softmax of the label scores), most probable first.</summary>
    public List<List<PredictedLabel>> PredictAll(IReadOnlyList<ClassificationExample> examples, int batchSize = 32)
    {
        var results = new List<List<PredictedLabel>>(examples.Count);
        using var _ = no_grad();
        bool training = _module.training;
        _module.eval();
        try
        {
            for (int from = 0; from < examples.Count; from += batchSize)
            {
                using var scope = NewDisposeScope();
                var (scores, _) = LabelScores(examples.Skip(from).Take(batchSize).ToList());
                float[] flat = scores.softmax(-1).data<float>().ToArray();
                int labels = _labelWords.Length;
                for (int b = 0; b < flat.Length / labels; b++)
                    results.Add(Enumerable.Range(0, labels).Select(l => new PredictedLabel(Prompt.Labels[l], flat[b * labels + l])).OrderByDescending(p => p.Score).ToList());
            }
        }
        finally { if (training) _module.train(); }
        return results;
    }

    /// <summary>The most probable label of every example, with its probability.</summary>
    public List<PredictedLabel> Predict(IReadOnlyList<ClassificationExample> examples, int batchSize = 32) => PredictAll(examples, batchSize).Select(p => p[0]).ToList();

    /// <summary>Accuracy and macro-F1 on labelled examples.</summary>
    public ClassificationMetrics Evaluate(IReadOnlyList<ClassificationExample> examples, int batchSize = 32) =>
        ClassificationMetrics.Of(examples.Select(e => e.Label!).ToList(), Predict(examples, batchSize).Select(p => p.Label).ToList());

    /// <summary>Writes the masked LM (Hugging Face layout, with the length it was tuned at) and prompt.json.</summary>
    public void Save(string directory)
    {
        HuggingFaceCheckpoint.Save(_module, Config, Tokenizer.Vocabulary, directory, Tokenizer.Lowercase, modelMaxLength: MaxLength);
        Prompt.Save(directory);
    }

    /// <summary>The input written into the template: [CLS] template [SEP], the texts truncated (longest first) to fit.</summary>
    public EncodedText Encode(ClassificationExample example)
    {
        var text = Ids(example.Text);
        var pair = _hasPair && example.TextPair is { } second ? Ids(second) : [];
        // Longest first, the text on a tie; counted, so that a long email is cut once rather than copied per token.
        int keepText = text.Length, keepPair = pair.Length;
        while (keepText + keepPair > _textRoom)
        {
            if (keepText >= keepPair) keepText--;
            else keepPair--;
        }
        var ids = new List<int>(MaxLength) { Tokenizer.Vocabulary.ClassifierId };
        foreach (var (kind, partIds) in _template)
            ids.AddRange(kind == ClozePrompt.TextSlot ? text[..keepText] : kind == ClozePrompt.PairSlot ? pair[..keepPair] : partIds);
        ids.Add(Tokenizer.Vocabulary.SeparatorId);
        var array = ids.ToArray();
        return new EncodedText(Tokenizer.Vocabulary, array, new int[array.Length], new int[array.Length], new TokenOffset[array.Length]);
    }

    // Label scores [batch, labels]: log of the summed probabilities of each label's words at the mask.
    private (Tensor Scores, long Tokens) LabelScores(IReadOnlyList<ClassificationExample> batch)
    {
        var encodings = batch.Select(Encode).ToList();
        using var inputs = new EncodedBatch(encodings, Tokenizer.Vocabulary);
        long length = inputs.InputIds.shape[1];
        using var positions = tensor(encodings.Select((e, b) => b * length + Array.IndexOf(e.Ids, Tokenizer.Vocabulary.MaskId)).ToArray());
        using var logits = _model.MaskedLmLogits(inputs.InputIds, inputs.TokenTypeIds, inputs.AttentionMask, positions);
        using var logProbabilities = logits.log_softmax(-1);
        var perLabel = _labelWords.Select(words =>
        {
            using var index = tensor(words.Select(w => (long)w).ToArray());
            using var picked = logProbabilities.index_select(1, index);
            return picked.logsumexp(1);
        }).ToArray();
        var scores = stack(perLabel, 1);
        foreach (var t in perLabel) t.Dispose();
        return (scores, encodings.Sum(e => (long)e.Length));
    }

    private int[] Ids(string text)
    {
        var ids = new List<int>();
        Tokenizer.AppendIds(text, ids);
        return ids.ToArray();
    }

    // The template cut at its slots and its mask: literal text, {text}, {text_pair} and [MASK] in order.
    private static List<string> Parts(string template)
    {
        var parts = new List<string>();
        int from = 0;
        while (from < template.Length)
        {
            var next = new[] { ClozePrompt.TextSlot, ClozePrompt.PairSlot, ClozePrompt.Mask }
                .Select(s => (Slot: s, At: template.IndexOf(s, from, StringComparison.Ordinal))).Where(p => p.At >= 0).OrderBy(p => p.At).FirstOrDefault();
            if (next.Slot is null) { parts.Add(template[from..]); break; }
            if (next.At > from) parts.Add(template[from..next.At]);
            parts.Add(next.Slot);
            from = next.At + next.Slot.Length;
        }
        return parts;
    }

    /// <inheritdoc/>
    public void Dispose() => _module.Dispose();
}
