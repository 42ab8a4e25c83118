using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>
/// Hugging Face's BERT initialisation (_init_weights): linear and embedding weights from
/// N(0, initializer_range), biases zero, the padding embedding row zero, LayerNorm weight one and bias zero.
/// </summary>
public static class BertInitialization
{
    /// <summary>Initialises every submodule of <paramref name="root"/>.</summary>
    public static void Apply(nn.Module root, BertConfig config)
    {
        using var _ = no_grad();
        foreach (var (_, module) in root.named_modules())
        {
            switch (module)
            {
                case Linear linear:
                    nn.init.normal_(linear.weight, 0, config.InitializerRange);
                    if (linear.bias is not null) nn.init.zeros_(linear.bias);
                    break;
                case Embedding embedding:
                    // TorchSharp's Embedding.weight wraps a new native reference on every get: disposed here, it
                    // is not left for a later garbage collection to free in the middle of training.
                    using (var weight = embedding.weight!) nn.init.normal_(weight, 0, config.InitializerRange);
                    break;
                case LayerNorm norm:
                    nn.init.ones_(norm.weight);
                    nn.init.zeros_(norm.bias);
                    break;
            }
        }
        foreach (var (name, parameter) in root.named_parameters())
            if (name.EndsWith("word_embeddings.weight", StringComparison.Ordinal))
            {
                using var padding = parameter[config.PadTokenId];
                padding.zero_().Dispose(); // zero_ also returns a new wrapper
            }
    }
}
