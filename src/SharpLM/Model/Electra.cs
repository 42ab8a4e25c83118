using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Model;

// ELECTRA (Clark et al., 2020) as Hugging Face's modeling_electra.py lays it out: the BERT encoder
// under the field "electra" (no pooler, embeddings of width embedding_size projected to the hidden
// size), a discriminator head that scores every token as original or replaced, and a small masked-LM
// generator whose output projection is its word embedding matrix. Field names are Hugging Face's.

/// <summary>The discriminator's head (discriminator_predictions): dense, activation, one logit per token.</summary>
public sealed class ElectraDiscriminatorPredictions : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Linear dense;
    private readonly Linear dense_prediction;
    private readonly string _activation;

    /// <summary>Creates the head.</summary>
    public ElectraDiscriminatorPredictions(BertConfig config) : base(nameof(ElectraDiscriminatorPredictions))
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        dense_prediction = Linear(config.HiddenSize, 1);
        _activation = config.HiddenAct;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>Logits [batch, length] that each token was replaced, for hidden states [batch, length, hidden].</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var projected = MixedPrecision.Linear(dense, hidden, ComputeType);
        using var activated = Activation.Apply(_activation, projected);
        using var logits = MixedPrecision.Float32(MixedPrecision.Linear(dense_prediction, activated, ComputeType), ComputeType);
        return logits.squeeze(-1);
    }
}

/// <summary>ELECTRA's discriminator with its head (Hugging Face's ElectraForPreTraining): fields electra and discriminator_predictions.</summary>
public sealed class ElectraForPreTraining : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly BertModel electra;
    private readonly ElectraDiscriminatorPredictions discriminator_predictions;

    /// <summary>Creates the discriminator of an ELECTRA <paramref name="config"/>, with Hugging Face's initialisation.</summary>
    public ElectraForPreTraining(BertConfig config) : base(nameof(ElectraForPreTraining))
    {
        electra = new BertModel(RequireElectra(config));
        discriminator_predictions = new ElectraDiscriminatorPredictions(config);
        RegisterComponents();
        BertInitialization.Apply(discriminator_predictions, config);
    }

    /// <summary>The encoder.</summary>
    public BertModel Electra => electra;

    /// <summary>The configuration.</summary>
    public BertConfig Config => electra.Config;

    /// <summary>Replaced-token logits [batch, length].</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var (sequence, pooled) = electra.call(inputIds, tokenTypeIds, attentionMask);
        pooled.Dispose();
        using (sequence) return discriminator_predictions.call(sequence);
    }

    internal static BertConfig RequireElectra(BertConfig config) => config.IsElectra ? config
        : throw new InvalidInputException($"config.json: model_type is {config.ModelType}, not electra; an ELECTRA model needs an ELECTRA config.");
}

/// <summary>The generator's transform (generator_predictions): dense to the embedding width, GELU, LayerNorm.</summary>
public sealed class ElectraGeneratorPredictions : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly LayerNorm LayerNorm;
    private readonly Linear dense;

    /// <summary>Creates the transform.</summary>
    public ElectraGeneratorPredictions(BertConfig config) : base(nameof(ElectraGeneratorPredictions))
    {
        LayerNorm = nn.LayerNorm([config.EmbeddingSize], config.LayerNormEps);
        dense = Linear(config.HiddenSize, config.EmbeddingSize);
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor hidden)
    {
        using var projected = MixedPrecision.Linear(dense, hidden, ComputeType);
        using var activated = Activation.Apply("gelu", projected);
        using var full = activated.to(hidden.dtype);
        return LayerNorm.call(full);
    }
}

/// <summary>
/// The generator's projection onto the vocabulary (generator_lm_head): the word embedding matrix as
/// weight (tied, as Hugging Face ties it) plus a bias of its own.
/// </summary>
public sealed class ElectraGeneratorHead : Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Parameter bias;
    // A delegate, not a Parameter field: the tied matrix must stay one tensor, registered by the embeddings.
    private readonly Func<Parameter> _weight;

    /// <summary>Creates the head over <paramref name="wordEmbeddings"/>.</summary>
    public ElectraGeneratorHead(BertConfig config, Func<Parameter> wordEmbeddings) : base(nameof(ElectraGeneratorHead))
    {
        bias = Parameter(zeros(config.VocabSize));
        _weight = wordEmbeddings;
        RegisterComponents();
    }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor transformed) => MixedPrecision.Float32(MixedPrecision.Linear(transformed, _weight(), bias, ComputeType), ComputeType);
}

/// <summary>
/// ELECTRA's generator (Hugging Face's ElectraForMaskedLM): fields electra, generator_predictions and
/// generator_lm_head. While pretraining it embeds with the discriminator's embeddings; saved on its own,
/// it is a complete masked LM that fill-mask and eval load.
/// </summary>
public sealed class ElectraForMaskedLM : Module<Tensor, Tensor, Tensor, Tensor>, IMaskedLanguageModel
{
    private readonly BertModel electra;
    private readonly ElectraGeneratorPredictions generator_predictions;
    private readonly ElectraGeneratorHead generator_lm_head;

    /// <summary>Creates the generator of an ELECTRA <paramref name="config"/>, with its own embeddings or <paramref name="sharedEmbeddings"/>.</summary>
    public ElectraForMaskedLM(BertConfig config, BertEmbeddings? sharedEmbeddings = null) : base(nameof(ElectraForMaskedLM))
    {
        electra = new BertModel(ElectraForPreTraining.RequireElectra(config), sharedEmbeddings: sharedEmbeddings);
        generator_predictions = new ElectraGeneratorPredictions(config);
        generator_lm_head = new ElectraGeneratorHead(config, () => electra.Embeddings.WordEmbeddings);
        RegisterComponents();
        BertInitialization.Apply(generator_predictions, config);
    }

    /// <summary>The encoder.</summary>
    public BertModel Electra => electra;

    /// <inheritdoc/>
    public BertConfig Config => electra.Config;

    /// <inheritdoc/>
    public Tensor MaskedLmLogits(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, Tensor maskedPositions)
    {
        var (sequence, pooled) = electra.call(inputIds, tokenTypeIds, attentionMask);
        pooled.Dispose();
        using (sequence)
        {
            // Only the masked positions are projected onto the vocabulary: the same logits, a fraction of the work.
            using var flat = sequence.reshape(-1, sequence.shape[2]);
            using var masked = flat.index_select(0, maskedPositions);
            using var transformed = generator_predictions.call(masked);
            return generator_lm_head.call(transformed);
        }
    }

    /// <summary>Vocabulary logits [batch, length, vocab] at every position.</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var (sequence, pooled) = electra.call(inputIds, tokenTypeIds, attentionMask);
        pooled.Dispose();
        using (sequence)
        using (var transformed = generator_predictions.call(sequence))
            return generator_lm_head.call(transformed);
    }
}

/// <summary>
/// ELECTRA's sentence classification head (Hugging Face's ElectraClassificationHead, field classifier):
/// the first token's hidden state, dropout, dense, GELU, dropout, out_proj.
/// </summary>
public sealed class ElectraClassificationHead : Module<Tensor, Tensor>
{
    private readonly Linear dense;
    private readonly Dropout dropout;
    private readonly Linear out_proj;

    /// <summary>Creates the head for <paramref name="labels"/> labels.</summary>
    public ElectraClassificationHead(BertConfig config, int labels) : base(nameof(ElectraClassificationHead))
    {
        dense = Linear(config.HiddenSize, config.HiddenSize);
        dropout = Dropout(config.HiddenDropoutProb);
        out_proj = Linear(config.HiddenSize, labels);
        RegisterComponents();
    }

    /// <summary>Logits [batch, labels] for the last hidden state [batch, length, hidden].</summary>
    public override Tensor forward(Tensor sequence)
    {
        using var first = sequence.select(1, 0);
        using var dropped = dropout.call(first);
        using var projected = dense.call(dropped);
        using var activated = Activation.Apply("gelu", projected);
        using var droppedAgain = dropout.call(activated);
        return out_proj.call(droppedAgain);
    }
}
