using SharpLM.Model;

namespace SharpLM.Training;

/// <summary>
/// SharpLM's default pretraining recipe for a model size: what <c>sharplm pretrain --preset</c> trains.
/// Each departure from Hugging Face's BertForPreTraining recipe is kept only because it measured faster
/// on CPU at equal or better loss (docs/benchmarks.md); the weights stay Hugging Face's.
/// </summary>
public static class PretrainingRecipe
{
    /// <summary>
    /// <paramref name="config"/> with the default recipe's options: the vocabulary projection on masked
    /// positions only (the same loss as projecting every position, a fraction of the work).
    /// </summary>
    public static BertConfig Default(BertConfig config) => config with { SparseMaskedLm = true };
}
