using SharpLM.Data;
using SharpLM.Model;

namespace SharpLM.Training;

/// <summary>
/// A pretraining recipe: what <c>sharplm pretrain --recipe NAME</c> changes in the model (SharpLM's
/// config options; the weights keep Hugging Face's names), in the data it prepares from a corpus, and
/// in the optimisation. Options given on the command line win over the recipe's. Each departure from
/// Hugging Face's BertForPreTraining recipe is kept only where it measured better on CPU
/// (docs/pretraining.md, docs/benchmarks.md).
/// </summary>
/// <param name="Name">The name on the command line.</param>
/// <param name="Model">The recipe's options applied to a config of a given size.</param>
/// <param name="Data">How a corpus is cut and masked.</param>
/// <param name="Training">Optimiser and schedule settings (batch size, budget and logging come from the command line).</param>
public sealed record PretrainingRecipe(string Name, Func<BertConfig, BertConfig> Model, PretrainingDataOptions Data, PretrainingOptions Training)
{
    /// <summary>
    /// BERT's recipe (masked LM and next-sentence prediction on sentence pairs, post-LayerNorm, 80/10/10
    /// masking of 15%, AdamW betas 0.9/0.999, clipping at 1) with the vocabulary projection on masked
    /// positions only: the same loss as projecting every position, a fraction of the work. SharpLM's
    /// default before the Cramming recipe.
    /// </summary>
    public static readonly PretrainingRecipe Bert = new("bert", config => config with { SparseMaskedLm = true },
        new PretrainingDataOptions(), new PretrainingOptions(LearningRate: 5e-4, WarmupSteps: 100, Precision: "auto"));

    /// <summary>
    /// The choices of Geiping and Goldstein's Cramming (2022) that fit a CPU: masked LM alone on
    /// sequences packed to the full length (no NSP), pre-LayerNorm (which allows a peak learning rate of
    /// 1e-3), no biases in the encoder's linear layers, a gated (GEGLU) feed-forward, no dropout while
    /// pretraining (fine-tuning keeps the config's dropout), AdamW betas 0.9/0.98 with epsilon 1e-12,
    /// clipping at 0.5, and the vocabulary projection on masked positions only. Positions are relative
    /// (Hugging Face's position_embedding_type "relative_key"): a masked word's neighbours are reachable
    /// by distance from the first step, and the model leaves the frequency plateau, where learned absolute
    /// positions kept it for all the budgets of this machine (docs/pretraining.md, third round). Both recipes train in
    /// bf16 mixed precision where the CPU multiplies bfloat16 in hardware (+63% tokens/s at tiny, +88% at
    /// mini here, the same validation curve within 0.001 over 600 steps).
    /// </summary>
    public static readonly PretrainingRecipe Cramming = new("cramming",
        config => config with { PreLayerNorm = true, LinearBias = false, GatedFeedForward = true, SparseMaskedLm = true, PretrainingDropout = false, PositionEmbeddingType = "relative_key" },
        new PretrainingDataOptions(NextSentence: false),
        new PretrainingOptions(LearningRate: 1e-3, WarmupSteps: 100, AdamBeta2: 0.98, AdamEpsilon: 1e-12, MaxGradNorm: 0.5, Precision: "auto"));

    /// <summary>The recipes by name.</summary>
    public static readonly IReadOnlyList<PretrainingRecipe> All = [Cramming, Bert];

    /// <summary>
    /// The recipe presets and the no-argument run train with: Cramming, which reached a lower masked-LM
    /// loss than BERT's recipe in the same time at tiny (3 minutes) and mini (30 minutes) sizes
    /// (docs/pretraining.md).
    /// </summary>
    public static PretrainingRecipe Default => Cramming;

    /// <summary>The recipe called <paramref name="name"/>.</summary>
    /// <exception cref="InvalidInputException">No recipe has that name.</exception>
    public static PretrainingRecipe Named(string name) => All.FirstOrDefault(r => r.Name == name)
        ?? throw new InvalidInputException($"--recipe {name}: use {string.Join(" or ", All.Select(r => r.Name))}.");
}
