using SharpLM.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Puts a model in training mode, with or without dropout. The Cramming recipe pretrains without
/// dropout (config key sharplm_pretraining_dropout false) but keeps the config's dropout probabilities
/// for fine-tuning, so the switch is the trainer's, not the model's: dropout layers, and the attention
/// whose scaled_dot_product_attention drops probabilities in training mode, are put in eval mode while
/// everything else trains.
/// </summary>
public static class TrainingMode
{
    /// <summary>Training mode for <paramref name="model"/>; without <paramref name="dropout"/>, no unit is dropped.</summary>
    public static void Enter(nn.Module model, bool dropout)
    {
        model.train();
        if (dropout) return;
        foreach (var module in model.modules())
            if (module is Dropout or BertSelfAttention) module.eval();
    }
}
