using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>The feed-forward activations of Hugging Face's ACT2FN that BERT configs name.</summary>
public static class Activation
{
    /// <summary>Applies <paramref name="name"/> (gelu, gelu_new, gelu_pytorch_tanh, relu, silu, swish) to <paramref name="x"/>.</summary>
    public static Tensor Apply(string name, Tensor x) => name switch
    {
        "gelu" => nn.functional.gelu(x), // the exact, erf-based GELU
        "gelu_new" or "gelu_pytorch_tanh" => TanhGelu(x),
        "relu" => nn.functional.relu(x),
        "silu" or "swish" => nn.functional.silu(x),
        _ => throw new ArgumentException($"unknown activation '{name}'"),
    };

    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), as GPT-2 and gelu_new define it.
    private static Tensor TanhGelu(Tensor x)
    {
        using var cube = x.pow(3);
        using var inner = x + 0.044715 * cube;
        using var scaled = inner * Math.Sqrt(2.0 / Math.PI);
        using var t = scaled.tanh();
        using var onePlus = t + 1.0;
        using var half = 0.5 * x;
        return half * onePlus;
    }
}
