using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>The counts a step's losses are divided by, over all its micro-batches: accumulation then changes nothing.</summary>
/// <param name="Masked">Masked positions.</param>
/// <param name="Examples">Examples.</param>
/// <param name="Tokens">Real (non-padding) tokens.</param>
public sealed record StepCounts(long Masked, long Examples, long Tokens);

/// <summary>
/// What a pretraining run trains and how: the modules whose parameters the optimizer updates, the loss
/// of a batch, the evaluation, and the model folder it saves. <see cref="MaskedLmObjective"/> is BERT's
/// masked LM (with NSP on sentence pairs); <see cref="ElectraObjective"/> is ELECTRA's replaced-token detection.
/// </summary>
public abstract class PretrainingObjective
{
    /// <summary>Everything trained: the optimizer's parameters, and what train() and eval() switch.</summary>
    public abstract nn.Module Module { get; }

    /// <summary>Whether training keeps the model's dropout (Cramming trains without it).</summary>
    public abstract bool PretrainingDropout { get; }

    /// <summary>Whether the second logged part of the loss is replaced-token detection (ELECTRA's discriminator) rather than NSP.</summary>
    public virtual bool DetectsReplacedTokens => false;

    /// <summary>The step's loss of one micro-batch (to back-propagate) and its two logged parts.</summary>
    /// <param name="batch">The micro-batch.</param>
    /// <param name="counts">The step's counts, over all its micro-batches.</param>
    /// <param name="nextSentence">Whether the data has sentence pairs for NSP.</param>
    public abstract (Tensor Loss, Tensor First, Tensor Second) Loss(PretrainingBatch batch, StepCounts counts, bool nextSentence);

    /// <summary>Evaluates <paramref name="data"/> in stored order, at most <paramref name="maxBatches"/> batches (0: all); the caller sets eval mode.</summary>
    public abstract EvaluationMetrics Evaluate(IPretrainingData data, int batchSize, int maxBatches);

    /// <summary>Writes the model folder (Hugging Face layout) into <paramref name="directory"/>; BERT's objectives write <paramref name="vocabulary"/> with it, a causal one its own tokenizer.</summary>
    public abstract void Save(string directory, Vocabulary? vocabulary, bool lowercase);

    /// <summary>Loads the weights of a folder <see cref="Save"/> wrote; every weight must be there.</summary>
    public abstract void Load(string directory);
}

/// <summary>BERT's objective: masked LM, plus next-sentence prediction when the data has sentence pairs.</summary>
public sealed class MaskedLmObjective(BertForPreTraining model) : PretrainingObjective
{
    /// <summary>The model trained.</summary>
    public BertForPreTraining Model => model;

    /// <inheritdoc/>
    public override nn.Module Module => model;

    /// <summary>The config of the model saved as the run's model folder.</summary>
    public BertConfig Config => model.Config;

    /// <inheritdoc/>
    public override bool PretrainingDropout => model.Config.PretrainingDropout;

    /// <inheritdoc/>
    public override (Tensor Loss, Tensor First, Tensor Second) Loss(PretrainingBatch batch, StepCounts counts, bool nextSentence)
    {
        var (mlmLogits, nspLogits) = model.PretrainingLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, batch.MaskedPositions);
        // Sums over the micro-batch, divided by the counts of the whole step.
        var mlm = nn.functional.cross_entropy(mlmLogits, batch.MaskedLabels, reduction: nn.Reduction.Sum) / Math.Max(counts.Masked, 1);
        // Data without sentence pairs (--no-nsp) trains the masked LM alone, as RoBERTa and Cramming do.
        var nsp = nextSentence ? nn.functional.cross_entropy(nspLogits, batch.NextSentenceLabels, reduction: nn.Reduction.Sum) / Math.Max(counts.Examples, 1) : zeros(1).squeeze();
        return (mlm + nsp, mlm, nsp);
    }

    /// <inheritdoc/>
    public override EvaluationMetrics Evaluate(IPretrainingData data, int batchSize, int maxBatches) => Evaluation.Run(model, Evaluation.MaskedData(data), batchSize, maxBatches);

    /// <inheritdoc/>
    public override void Save(string directory, Vocabulary? vocabulary, bool lowercase) =>
        HuggingFaceCheckpoint.Save(model, model.Config, vocabulary ?? throw new ArgumentNullException(nameof(vocabulary)), directory, lowercase);

    /// <inheritdoc/>
    public override void Load(string directory)
    {
        var report = HuggingFaceCheckpoint.LoadDirectory(model, model.Config, directory);
        if (report.Missing.Count > 0) throw new InvalidInputException($"{directory}: the checkpoint lacks {report.Missing[0]}.");
    }
}
