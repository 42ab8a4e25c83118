using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Next-token prediction for a Llama-style decoder: every position of a window predicts the token after it, and the
/// loss is the cross-entropy summed over the micro-batch and divided by the predicted tokens of the whole step
/// (accumulation changes nothing). Evaluation gives the loss, perplexity, accuracy and bits per byte.
/// </summary>
public sealed class CausalLmObjective(LlamaForCausalLM model, ByteLevelBpeTokenizer tokenizer) : PretrainingObjective
{
    private readonly int[] _byteLengths = tokenizer.ByteLengths();

    /// <summary>
    /// The optimisation causal runs start from (options typed on the command line win): nanoGPT's for small models
    /// (peak 1e-3, cosine decay, weight decay 0.1, AdamW beta2 0.99 for small batches, clipping at 1), with bf16 where
    /// the CPU multiplies it in hardware.
    /// </summary>
    public static readonly PretrainingOptions Training = new(LearningRate: 1e-3, WeightDecay: 0.1, WarmupSteps: 100, Schedule: "cosine",
        AdamBeta2: 0.99, AdamEpsilon: 1e-8, MaxGradNorm: 1.0, Precision: "auto");

    /// <summary>The model trained.</summary>
    public LlamaForCausalLM Model => model;

    /// <summary>The tokenizer saved with the model.</summary>
    public ByteLevelBpeTokenizer Tokenizer => tokenizer;

    /// <inheritdoc/>
    public override nn.Module Module => model;

    /// <inheritdoc/>
    public override bool PretrainingDropout => false;

    /// <inheritdoc/>
    public override (Tensor Loss, Tensor First, Tensor Second) Loss(PretrainingBatch batch, StepCounts counts, bool nextSentence)
    {
        var (losses, _) = TokenLosses(batch.InputIds, scoreGuesses: false);
        // Each window of n tokens predicts n - 1: the step's predicted tokens are its tokens less one per window.
        var loss = losses.sum() / Math.Max(counts.Tokens - counts.Examples, 1);
        return (loss, loss, zeros(1).squeeze());
    }

    // The cross-entropy of every predicted token [batch × (n - 1)], and for evaluation whether each argmax was right
    // (a training step does not need the argmax over the whole vocabulary at every position).
    private (Tensor Losses, Tensor? Correct) TokenLosses(Tensor ids, bool scoreGuesses)
    {
        var (flat, targets) = model.NextTokenLogits(ids);
        using (flat)
        using (targets)
        {
            var losses = nn.functional.cross_entropy(flat, targets, reduction: nn.Reduction.None);
            if (!scoreGuesses) return (losses, null);
            using var guesses = flat.argmax(-1);
            return (losses, guesses.eq(targets));
        }
    }

    /// <inheritdoc/>
    public override EvaluationMetrics Evaluate(IPretrainingData data, int batchSize, int maxBatches)
    {
        double lossSum = 0;
        long predicted = 0, correct = 0, bytes = 0, examples = 0;
        int batches = 0;
        using var _ = no_grad();
        foreach (var batch in data.InOrder(batchSize))
        {
            using var scope = NewDisposeScope();
            using (batch)
            {
                var (losses, right) = TokenLosses(batch.InputIds, scoreGuesses: true);
                lossSum += losses.sum().to(ScalarType.Float64).item<double>();
                correct += right!.sum().item<long>();
                predicted += losses.numel();
                var targets = batch.InputIds.narrow(1, 1, batch.InputIds.shape[1] - 1).reshape(-1).data<long>();
                foreach (long id in targets) bytes += _byteLengths[id];
                examples += batch.Examples;
            }
            if (maxBatches > 0 && ++batches >= maxBatches) break;
        }
        double loss = lossSum / Math.Max(predicted, 1), accuracy = (double)correct / Math.Max(predicted, 1);
        return new EvaluationMetrics(loss, Math.Exp(loss), accuracy, null, null, examples, 0, loss, accuracy,
            NextToken: true, BitsPerByte: lossSum / Math.Log(2) / Math.Max(bytes, 1));
    }

    /// <summary>Writes the causal model folder; <paramref name="vocabulary"/> and <paramref name="lowercase"/> are BERT's and unused here.</summary>
    public override void Save(string directory, Vocabulary? vocabulary, bool lowercase) => LlamaCheckpoint.Save(model, tokenizer, directory);

    /// <inheritdoc/>
    public override void Load(string directory) => LlamaCheckpoint.LoadWeights(model, directory);
}
