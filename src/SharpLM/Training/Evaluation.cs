using SharpLM.Data;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Evaluates a pretraining model on prepared data: masked-LM loss, perplexity and accuracy over all
/// masked labels and over the labels that are not [UNK], the share of [UNK] labels, and NSP loss and
/// accuracy where the data has sentence pairs. The [UNK]-free figures are the honest ones: predicting
/// [UNK] is easy and says nothing about the language.
/// </summary>
public static class Evaluation
{
    /// <summary>The masked examples of <paramref name="data"/>; a causal token stream has none to evaluate a masked LM on.</summary>
    internal static PretrainingBatches MaskedData(IPretrainingData data) => data as PretrainingBatches
        ?? throw new InvalidInputException("a masked-LM objective needs data prepared for masked LM (sharplm data prepare without --objective causal).");

    /// <summary>
    /// Runs <paramref name="model"/> (in eval mode) over <paramref name="data"/>, at most <paramref name="maxBatches"/>
    /// batches (0: all); NSP figures come from a BERT with its NSP head on sentence-pair data.
    /// </summary>
    public static EvaluationMetrics Run(IMaskedLanguageModel model, PretrainingBatches data, int batchSize, int maxBatches = 0)
    {
        var withNextSentence = data.NextSentence ? model as BertForPreTraining : null;
        double mlmSum = 0, knownSum = 0, nspSum = 0;
        long masked = 0, maskedCorrect = 0, known = 0, knownCorrect = 0, examples = 0, nspCorrect = 0;
        int batches = 0;
        using var _ = no_grad();
        foreach (var batch in data.InOrder(batchSize))
        {
            using var scope = NewDisposeScope();
            using (batch)
            {
                var (mlmLogits, nspLogits) = withNextSentence is not null
                    ? withNextSentence.PretrainingLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, batch.MaskedPositions)
                    : (model.MaskedLmLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, batch.MaskedPositions), null);
                var losses = nn.functional.cross_entropy(mlmLogits, batch.MaskedLabels, reduction: nn.Reduction.None);
                var correct = mlmLogits.argmax(-1).eq(batch.MaskedLabels);
                var isKnown = batch.MaskedLabels.ne(data.UnknownId);
                mlmSum += losses.sum().item<float>();
                maskedCorrect += correct.sum().item<long>();
                knownSum += losses.mul(isKnown).sum().item<float>();
                knownCorrect += correct.logical_and(isKnown).sum().item<long>();
                known += isKnown.sum().item<long>();
                if (withNextSentence is not null)
                {
                    nspSum += nn.functional.cross_entropy(nspLogits!, batch.NextSentenceLabels, reduction: nn.Reduction.Sum).item<float>();
                    nspCorrect += nspLogits!.argmax(-1).eq(batch.NextSentenceLabels).sum().item<long>();
                }
                masked += batch.MaskedCount;
                examples += batch.Examples;
            }
            if (maxBatches > 0 && ++batches >= maxBatches) break;
        }
        double mlmLoss = mlmSum / Math.Max(masked, 1);
        return new EvaluationMetrics(mlmLoss, Math.Exp(mlmLoss), (double)maskedCorrect / Math.Max(masked, 1),
            withNextSentence is not null ? nspSum / Math.Max(examples, 1) : null, withNextSentence is not null ? (double)nspCorrect / Math.Max(examples, 1) : null, examples,
            (double)(masked - known) / Math.Max(masked, 1), knownSum / Math.Max(known, 1), (double)knownCorrect / Math.Max(known, 1));
    }
}
