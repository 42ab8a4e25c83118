using SharpLM.Data;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>Evaluates a pretraining model on prepared data: masked-LM loss, perplexity and accuracy, NSP loss and accuracy.</summary>
public static class Evaluation
{
    /// <summary>Runs <paramref name="model"/> (in eval mode) over <paramref name="data"/>, at most <paramref name="maxBatches"/> batches (0: all).</summary>
    public static EvaluationMetrics Run(BertForPreTraining model, PretrainingBatches data, int batchSize, int maxBatches = 0)
    {
        double mlmSum = 0, nspSum = 0;
        long masked = 0, maskedCorrect = 0, examples = 0, nspCorrect = 0;
        int batches = 0;
        using var _ = no_grad();
        foreach (var batch in data.InOrder(batchSize))
        {
            using var scope = NewDisposeScope();
            using (batch)
            {
                var (mlmLogits, nspLogits) = model.PretrainingLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, batch.MaskedPositions);
                mlmSum += nn.functional.cross_entropy(mlmLogits, batch.MaskedLabels, reduction: nn.Reduction.Sum).item<float>();
                nspSum += nn.functional.cross_entropy(nspLogits, batch.NextSentenceLabels, reduction: nn.Reduction.Sum).item<float>();
                maskedCorrect += mlmLogits.argmax(-1).eq(batch.MaskedLabels).sum().item<long>();
                nspCorrect += nspLogits.argmax(-1).eq(batch.NextSentenceLabels).sum().item<long>();
                masked += batch.MaskedCount;
                examples += batch.Examples;
            }
            if (maxBatches > 0 && ++batches >= maxBatches) break;
        }
        double mlmLoss = mlmSum / Math.Max(masked, 1);
        return new EvaluationMetrics(mlmLoss, Math.Exp(mlmLoss), (double)maskedCorrect / Math.Max(masked, 1),
            nspSum / Math.Max(examples, 1), (double)nspCorrect / Math.Max(examples, 1), examples);
    }
}
