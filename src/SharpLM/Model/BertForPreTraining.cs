using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Model;

/// <summary>Dense + activation + LayerNorm before the vocabulary projection (cls.predictions.transform).</summary>
public sealed class BertPredictionHeadTransform : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Linear dense;
    private readonly LayerNorm LayerNorm;
    private readonly string _activation;

    /// <summary>Creates the transform.</summary>
    public BertPredictionHeadTransform(BertConfig config) : base(nameof(BertPredictionHeadTransform))
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm([config.HiddenSize], config.LayerNormEps);
        _activation = config.HiddenAct;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor hidden)
    {
        using var projected = MixedPrecision.Linear(dense, hidden, ComputeType);
        using var activated = Activation.Apply(_activation, projected);
        using var full = activated.to(hidden.dtype);
        return LayerNorm.call(full);
    }
}

/// <summary>
/// The masked-LM head (cls.predictions): the transform, then a projection onto the vocabulary whose
/// weight is the word embedding matrix (tied, as in BERT) plus its own bias (cls.predictions.bias).
/// </summary>
public sealed class BertLMPredictionHead : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly BertPredictionHeadTransform transform;
    private readonly Parameter bias;
    // A delegate, not a field of type Parameter: a Parameter field would be registered a second time
    // under this module's name, and the tie must stay one tensor.
    private readonly Func<Parameter> _decoderWeight;

    /// <summary>Creates the head over <paramref name="wordEmbeddings"/>.</summary>
    public BertLMPredictionHead(BertConfig config, Func<Parameter> wordEmbeddings) : base(nameof(BertLMPredictionHead))
    {
        transform = new BertPredictionHeadTransform(config);
        bias = Parameter(zeros(config.VocabSize));
        _decoderWeight = wordEmbeddings;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Vocabulary logits [..., vocab] for hidden states [..., hidden], in the hidden states' dtype.</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var transformed = transform.call(hidden);
        return MixedPrecision.Float32(MixedPrecision.Linear(transformed, _decoderWeight(), bias, ComputeType), ComputeType);
    }
}

/// <summary>Both pretraining heads (cls): masked LM (predictions) and next-sentence prediction (seq_relationship).</summary>
public sealed class BertPreTrainingHeads : Module<Tensor, Tensor, (Tensor, Tensor)>
{
    private readonly BertLMPredictionHead predictions;
    private readonly Linear seq_relationship;

    /// <summary>Creates the heads.</summary>
    public BertPreTrainingHeads(BertConfig config, Func<Parameter> wordEmbeddings) : base(nameof(BertPreTrainingHeads))
    {
        predictions = new BertLMPredictionHead(config, wordEmbeddings);
        seq_relationship = Linear(config.HiddenSize, 2);
        RegisterComponents();
    }

    /// <summary>The masked-LM head alone.</summary>
    public BertLMPredictionHead Predictions => predictions;

    /// <summary>The next-sentence head alone.</summary>
    public Linear NextSentence => seq_relationship;

    /// <inheritdoc/>
    public override (Tensor, Tensor) forward(Tensor sequence, Tensor pooled) =>
        (predictions.call(sequence), seq_relationship.call(pooled));
}

/// <summary>
/// BERT with its pretraining heads (Hugging Face's BertForPreTraining): fields "bert" and "cls", so
/// that parameter names are bert.* and cls.* exactly as in Hugging Face checkpoints.
/// </summary>
public sealed class BertForPreTraining : Module<Tensor, Tensor, Tensor, (Tensor PredictionLogits, Tensor SeqRelationshipLogits)>, IMaskedLanguageModel
{
    private readonly BertModel bert;
    private readonly BertPreTrainingHeads cls;

    /// <summary>Creates the model with Hugging Face's initialisation.</summary>
    public BertForPreTraining(BertConfig config) : base(nameof(BertForPreTraining))
    {
        if (config.IsElectra)
            throw new InvalidInputException("config.json: model_type electra has no BERT pretraining heads; an ELECTRA generator (ElectraForMaskedLM) fills masks, its discriminator detects replaced tokens.");
        bert = new BertModel(config);
        cls = new BertPreTrainingHeads(config, () => bert.Embeddings.WordEmbeddings);
        RegisterComponents();
        BertInitialization.Apply(cls, config);
    }

    /// <summary>The encoder.</summary>
    public BertModel Bert => bert;

    /// <summary>The configuration.</summary>
    public BertConfig Config => bert.Config;

    /// <summary>Label value of positions that the masked-LM loss ignores (PyTorch's and Hugging Face's -100).</summary>
    public const long IgnoreIndex = -100;

    /// <summary>
    /// The pretraining losses, as Hugging Face's BertForPreTraining computes them: cross-entropy of the
    /// masked-LM logits against <paramref name="mlmLabels"/> [batch, length] (IgnoreIndex where not
    /// masked), averaged over the masked positions; cross-entropy of the NSP logits against
    /// <paramref name="nspLabels"/> [batch] (0: B follows A, 1: B is random); and their sum. With
    /// sharplm_sparse_mlm the vocabulary projection runs on the masked positions only: the same loss
    /// for a fraction of the work.
    /// </summary>
    public (Tensor Total, Tensor MaskedLm, Tensor NextSentence) Loss(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, Tensor mlmLabels, Tensor nspLabels)
    {
        using var flatLabels = mlmLabels.reshape(-1);
        using var maskedPositions = flatLabels.ne(IgnoreIndex).nonzero().squeeze(1);
        using var targets = flatLabels.index_select(0, maskedPositions);
        var (mlmLogits, nspLogits) = PretrainingLogits(inputIds, tokenTypeIds, attentionMask, maskedPositions);
        using (mlmLogits)
        using (nspLogits)
        {
            var mlm = nn.functional.cross_entropy(mlmLogits, targets);
            var nsp = nn.functional.cross_entropy(nspLogits, nspLabels);
            return (mlm + nsp, mlm, nsp);
        }
    }

    /// <summary>
    /// Logits for training and evaluation: masked-LM logits [masked, vocab] at
    /// <paramref name="maskedPositions"/> (indexes into the flattened [batch × length] positions) and NSP
    /// logits [batch, 2]. With sharplm_sparse_mlm the vocabulary projection runs on those positions only;
    /// without, on every position (Hugging Face's recipe), and the masked rows are picked after.
    /// </summary>
    public (Tensor MaskedLm, Tensor NextSentence) PretrainingLogits(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, Tensor maskedPositions)
    {
        var (sequence, pooled) = bert.call(inputIds, tokenTypeIds, attentionMask);
        using (sequence)
        using (pooled)
        {
            Tensor mlm;
            if (Config.SparseMaskedLm)
            {
                using var flatHidden = sequence.reshape(-1, sequence.shape[2]);
                using var maskedHidden = flatHidden.index_select(0, maskedPositions);
                mlm = cls.Predictions.call(maskedHidden);
            }
            else
            {
                using var logits = cls.Predictions.call(sequence);
                using var flat = logits.reshape(-1, logits.shape[2]);
                mlm = flat.index_select(0, maskedPositions);
            }
            return (mlm, cls.NextSentence.call(pooled));
        }
    }

    /// <inheritdoc/>
    public Tensor MaskedLmLogits(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, Tensor maskedPositions)
    {
        var (mlm, nsp) = PretrainingLogits(inputIds, tokenTypeIds, attentionMask, maskedPositions);
        nsp.Dispose();
        return mlm;
    }

    /// <summary>Masked-LM logits [batch, length, vocab] and NSP logits [batch, 2].</summary>
    public override (Tensor PredictionLogits, Tensor SeqRelationshipLogits) forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var (sequence, pooled) = bert.call(inputIds, tokenTypeIds, attentionMask);
        using (sequence)
        using (pooled)
            return cls.call(sequence, pooled);
    }
}
