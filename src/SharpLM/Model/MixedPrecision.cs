using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>A module whose matrix products can run in a lower precision than its weights.</summary>
public interface IMixedPrecision
{
    /// <summary>The dtype matrix products and attention run in (bfloat16), or null for the weights' own.</summary>
    ScalarType? ComputeType { get; set; }
}

/// <summary>
/// Mixed precision without autocast (TorchSharp has none): weights, gradients and optimizer state stay
/// float32; every linear layer casts its input and weights to the compute dtype at its boundary, so the
/// matrix products and attention run in bfloat16 (AVX-512 BF16 on CPUs that have it), while the
/// residual stream, LayerNorms, embeddings, and the logits, softmax and losses stay float32 (a bfloat16
/// product added to the float32 residual is float32 again). Gradients reach the float32 weights through
/// the casts.
/// </summary>
public static class MixedPrecision
{
    /// <summary>Sets the compute dtype of every module of <paramref name="root"/> that has one (null: full precision).</summary>
    public static void Apply(nn.Module root, ScalarType? computeType)
    {
        foreach (var module in root.modules())
            if (module is IMixedPrecision mixed) mixed.ComputeType = computeType;
        if (root is IMixedPrecision self) self.ComputeType = computeType;
    }

    /// <summary>
    /// Sets the compute dtype of an inference pipeline's model while no call runs (under <paramref name="gate"/>, the
    /// lock its calls take), and returns it; a pipeline run by ONNX Runtime (<paramref name="root"/> null) has none.
    /// </summary>
    internal static ScalarType? SetForInference(nn.Module? root, Lock gate, ScalarType? computeType)
    {
        if (root is null) throw new InvalidOperationException("a model run by ONNX Runtime has no compute type to set; export it with --quantize int8 for speed.");
        lock (gate) Apply(root, computeType);
        return computeType;
    }

    /// <summary>
    /// The compute dtype named by --precision: fp32 (null), bf16, or auto: bf16 where the CPU multiplies
    /// bfloat16 in hardware (AVX-512 BF16 or AMX), fp32 elsewhere, where bfloat16 products are emulated and slower.
    /// </summary>
    /// <exception cref="InvalidInputException">Another name.</exception>
    public static ScalarType? Parse(string precision) => precision switch
    {
        "fp32" => null,
        "bf16" => ScalarType.BFloat16,
        "auto" => CpuHasBFloat16 ? ScalarType.BFloat16 : null,
        _ => throw new InvalidInputException($"--precision {precision}: use auto, fp32 or bf16."),
    };

    /// <summary>Whether this CPU has bfloat16 dot products (the avx512_bf16 or amx_bf16 flag of /proc/cpuinfo).</summary>
    public static bool CpuHasBFloat16 => HasBFloat16.Value;

    private static readonly Lazy<bool> HasBFloat16 = new(() =>
    {
        try
        {
            return File.Exists("/proc/cpuinfo") && File.ReadLines("/proc/cpuinfo")
                .Any(line => line.StartsWith("flags", StringComparison.Ordinal) && line.Split(' ', ':', '\t').Any(f => f is "avx512_bf16" or "amx_bf16"));
        }
        catch (IOException) { return false; }
    });

    /// <summary><paramref name="layer"/> applied to <paramref name="input"/>, in <paramref name="computeType"/> when given.</summary>
    public static Tensor Linear(Linear layer, Tensor input, ScalarType? computeType) =>
        computeType is null ? layer.call(input) : Linear(input, layer.weight!, layer.bias, computeType);

    /// <summary>input · weightᵀ + bias, in <paramref name="computeType"/> when given.</summary>
    public static Tensor Linear(Tensor input, Tensor weight, Tensor? bias, ScalarType? computeType)
    {
        if (computeType is not { } type) return nn.functional.linear(input, weight, bias);
        using var x = input.to(type);
        using var w = weight.to(type);
        using var b = bias?.to(type);
        return nn.functional.linear(x, w, b);
    }

    /// <summary>Logits back in float32 for softmax and the loss (a no-op in full precision).</summary>
    public static Tensor Float32(Tensor logits, ScalarType? computeType)
    {
        if (computeType is null) return logits;
        using (logits) return logits.to(ScalarType.Float32);
    }
}
