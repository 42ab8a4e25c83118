using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// AdamW as BERT and Hugging Face's recipes set it up: two parameter groups, weight decay on weight
/// matrices only, none on biases and norm weights (BERT's LayerNorm, Llama's RMSNorm layers, whose names end in
/// "layernorm.weight" or "norm.weight").
/// </summary>
public static class AdamWGroups
{
    /// <summary>Whether a parameter of this name is decayed.</summary>
    public static bool Decays(string name) => !name.EndsWith("bias", StringComparison.Ordinal) && !name.Contains("LayerNorm", StringComparison.Ordinal)
        && !name.EndsWith("norm.weight", StringComparison.Ordinal);

    /// <summary>AdamW (betas 0.9 and <paramref name="beta2"/>) over every parameter of <paramref name="model"/>.</summary>
    public static AdamW Create(nn.Module model, double learningRate, double epsilon, double weightDecay, double beta2 = 0.999)
    {
        var named = model.named_parameters().ToList();
        return optim.AdamW(
        [
            new AdamW.ParamGroup(named.Where(p => Decays(p.name)).Select(p => p.parameter), learningRate, 0.9, beta2, epsilon, weightDecay),
            new AdamW.ParamGroup(named.Where(p => !Decays(p.name)).Select(p => p.parameter), learningRate, 0.9, beta2, epsilon, 0.0),
        ]);
    }
}
