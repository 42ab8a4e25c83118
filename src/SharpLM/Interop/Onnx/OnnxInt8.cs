using static TorchSharp.torch;

namespace SharpLM.Interop.Onnx;

/// <summary>
/// Dynamic int8 quantisation of linear layers, written in the form that ONNX Runtime's own
/// quantize_dynamic writes, which ONNX Runtime fuses into its int8 kernels: the activation goes through
/// DynamicQuantizeLinear (uint8, with a scale and zero point computed per run), MatMulInteger multiplies
/// it by the int8 weight, and the int32 product is cast to float and scaled by both scales. Weights are
/// quantised symmetrically (zero point 0, scale max|w| / 127), per output column or per matrix. An
/// activation feeding several layers (query, key and value) is quantised once. Embeddings and the
/// masked-LM decoder tied to them stay float32.
/// </summary>
internal sealed class OnnxInt8(OnnxGraphBuilder graph, OnnxQuantization mode)
{
    private readonly Dictionary<string, string[]> _quantizedActivations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _smoothing = new(StringComparer.Ordinal);

    /// <summary>
    /// Declares the output <paramref name="x"/> of a LayerNorm with weight and bias <paramref name="gamma"/>
    /// and <paramref name="beta"/>. BERT's LayerNorms leave a few channels far larger than the rest, and
    /// one scale per activation tensor then spends its 8 bits on them: every layer fed by this output
    /// divides channel j by s(j) = (|gamma(j)| + |beta(j)|) / their mean before quantising, and multiplies
    /// the weight's row j by s(j), which leaves the product unchanged (SmoothQuant's migration, Xiao et al.
    /// 2023, with the LayerNorm's own scale standing in for calibration data).
    /// </summary>
    public void LayerNormOutput(string x, Tensor gamma, Tensor beta)
    {
        using var magnitude = gamma.detach().abs() + beta.detach().abs();
        using var mean = magnitude.mean().clamp_min(1e-12);
        using var ratio = magnitude / mean;
        // A channel the LayerNorm zeroes out keeps a finite divisor.
        _smoothing[x] = ratio.data<float>().ToArray().Select(v => Math.Max(v, 1e-3f)).ToArray();
    }

    /// <summary>x [.., in] times the int8 form of nn.Linear weight [out, in], as float [.., out].</summary>
    public string MatMul(string x, string name, Tensor weight, string? output)
    {
        float[]? smooth = _smoothing.GetValueOrDefault(x);
        using var rowScales = smooth is null ? null : tensor(smooth);
        using var smoothed = rowScales is null ? weight.alias() : weight * rowScales; // nn.Linear's [out, in]: column j of it is row j of the product's weight
        var (values, scales) = Quantize(smoothed, perColumn: mode == OnnxQuantization.Int8);
        long inputs = weight.shape[1], outputs = weight.shape[0];
        string quantized = graph.Initializer(name + ".T.int8", values, [inputs, outputs]);
        long[] scaleDims = scales.Length == 1 ? [] : [outputs];
        string scale = graph.Initializer(name + ".T.scale", scales, scaleDims);
        string zeroPoint = graph.Initializer(name + ".T.zero_point", new sbyte[scales.Length], scaleDims);
        if (!_quantizedActivations.TryGetValue(x, out var activation))
        {
            string input = smooth is null ? x : graph.Node("Mul", [x, graph.Initializer(name + ".smooth", smooth.Select(v => 1f / v).ToArray(), [smooth.Length])]);
            _quantizedActivations[x] = activation = graph.Nodes("DynamicQuantizeLinear", [input], 3);
        }
        string product = graph.Node("MatMulInteger", [activation[0], quantized, activation[2], zeroPoint]);
        string asFloat = graph.Node("Cast", [product], attributes: ("to", 1L));
        string scaleProduct = graph.Node("Mul", [activation[1], scale]);
        return graph.Node("Mul", [asFloat, scaleProduct], output);
    }

    /// <summary>The transposed weight [in, out] as int8 row-major, and its scales (one, or one per output column).</summary>
    internal static (sbyte[] Values, float[] Scales) Quantize(Tensor weight, bool perColumn)
    {
        using var transposed = weight.detach().to(ScalarType.Float32).t().contiguous();
        float[] w = transposed.data<float>().ToArray();
        int inputs = (int)transposed.shape[0], outputs = (int)transposed.shape[1];
        var scales = new float[perColumn ? outputs : 1];
        for (int i = 0; i < w.Length; i++)
        {
            int s = perColumn ? i % outputs : 0;
            scales[s] = Math.Max(scales[s], Math.Abs(w[i]));
        }
        for (int s = 0; s < scales.Length; s++) scales[s] = scales[s] > 0 ? scales[s] / 127f : 1f;
        var values = new sbyte[w.Length];
        for (int i = 0; i < w.Length; i++)
            values[i] = (sbyte)Math.Clamp(Math.Round(w[i] / scales[perColumn ? i % outputs : 0], MidpointRounding.ToEven), -127, 127);
        return (values, scales);
    }
}
