using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// ELECTRA's objective (<see cref="ElectraPretraining"/>): generator masked LM plus 50 × the
/// discriminator's replaced-token detection on every token. The model folder is the discriminator as
/// Hugging Face's ElectraForPreTraining, with the generator as ElectraForMaskedLM in its generator/
/// subfolder (both complete Hugging Face folders; the generator's copy of the shared embeddings included).
/// </summary>
public sealed class ElectraObjective(ElectraPretraining model) : PretrainingObjective
{
    /// <summary>Subfolder of the model folder that holds the generator.</summary>
    public const string GeneratorFolder = "generator";

    /// <summary>The generator and discriminator trained.</summary>
    public ElectraPretraining Model => model;

    /// <inheritdoc/>
    public override nn.Module Module => model;

    /// <summary>The discriminator's config: the model saved as the run's model folder.</summary>
    public BertConfig Config => model.Discriminator.Config;

    /// <inheritdoc/>
    public override bool PretrainingDropout => model.Discriminator.Config.PretrainingDropout;

    /// <inheritdoc/>
    public override bool DetectsReplacedTokens => true;

    /// <inheritdoc/>
    public override (Tensor Loss, Tensor First, Tensor Second) Loss(PretrainingBatch batch, StepCounts counts, bool nextSentence)
    {
        var (loss, corrupted, replaced, logits) = model.Loss(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, batch.MaskedPositions, batch.MaskedLabels,
            counts.Masked, counts.Tokens);
        corrupted.Dispose();
        replaced.Dispose();
        logits.Dispose();
        return (loss.Total, loss.Generator, loss.Discriminator);
    }

    /// <summary>
    /// The generator's masked-LM figures, and the discriminator's replaced-token loss and accuracy over
    /// every real token of the generator's replacements (sampled with a fixed seed, so that two
    /// evaluations of the same weights agree).
    /// </summary>
    public override EvaluationMetrics Evaluate(IPretrainingData data, int batchSize, int maxBatches)
    {
        var masked = Evaluation.MaskedData(data);
        var generatorFigures = Evaluation.Run(model.Generator, masked, batchSize, maxBatches);
        double lossSum = 0;
        long tokens = 0, correct = 0, replacedCount = 0;
        int batches = 0;
        using var _ = no_grad();
        // Evaluation draws from its own seed and puts torch's generator back, so that training after it is unchanged.
        using var state = random.get_rng_state();
        random.manual_seed(0);
        try
        {
            foreach (var batch in data.InOrder(batchSize))
            {
                using var scope = NewDisposeScope();
                using (batch)
                {
                    var (_, corrupted, replaced, logits) = model.Loss(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, batch.MaskedPositions, batch.MaskedLabels,
                        batch.MaskedCount, batch.Tokens);
                    var real = batch.AttentionMask.to(ScalarType.Bool);
                    var perToken = nn.functional.binary_cross_entropy_with_logits(logits, replaced, reduction: nn.Reduction.None);
                    lossSum += perToken.masked_select(real).sum().item<float>();
                    var guessed = logits.gt(0).to(replaced.dtype).eq(replaced).logical_and(real);
                    correct += guessed.sum().item<long>();
                    replacedCount += replaced.sum().to(ScalarType.Int64).item<long>();
                    tokens += batch.Tokens;
                }
                if (maxBatches > 0 && ++batches >= maxBatches) break;
            }
        }
        finally { random.set_rng_state(state); }
        return generatorFigures with
        {
            ReplacedTokenLoss = lossSum / Math.Max(tokens, 1),
            ReplacedTokenAccuracy = (double)correct / Math.Max(tokens, 1),
            ReplacedTokenShare = (double)replacedCount / Math.Max(tokens, 1),
        };
    }

    /// <inheritdoc/>
    public override void Save(string directory, Vocabulary? vocabulary, bool lowercase)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        HuggingFaceCheckpoint.Save(model.Discriminator, model.Discriminator.Config, vocabulary, directory, lowercase);
        // The generator's folder carries its own copy of the shared embeddings, as Hugging Face's ElectraForMaskedLM expects.
        var shared = model.Discriminator.Electra.Embeddings.named_parameters().Select(p => ("electra.embeddings." + p.name, (Tensor)p.parameter));
        HuggingFaceCheckpoint.Save(model.Generator, model.Generator.Config, vocabulary, Path.Combine(directory, GeneratorFolder), lowercase, shared);
    }

    /// <inheritdoc/>
    public override void Load(string directory)
    {
        var discriminator = HuggingFaceCheckpoint.LoadDirectory(model.Discriminator, model.Discriminator.Config, directory);
        if (discriminator.Missing.Count > 0) throw new InvalidInputException($"{directory}: the checkpoint lacks {discriminator.Missing[0]}.");
        string generatorFolder = Path.Combine(directory, GeneratorFolder);
        if (!Directory.Exists(generatorFolder)) throw new InvalidInputException($"{generatorFolder}: missing; an ELECTRA checkpoint holds its generator there.");
        // The generator's embeddings are the discriminator's, just loaded: its copy in the folder is the same.
        var generator = HuggingFaceCheckpoint.LoadDirectory(model.Generator, model.Generator.Config, generatorFolder);
        if (generator.Missing.Count > 0) throw new InvalidInputException($"{generatorFolder}: the checkpoint lacks {generator.Missing[0]}.");
    }
}
