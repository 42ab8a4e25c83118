namespace SharpLM.Interop.Onnx;

/// <summary>How an export stores the weights of its linear layers.</summary>
public enum OnnxQuantization
{
    /// <summary>float32, as trained.</summary>
    None,
    /// <summary>
    /// Dynamic int8 with one scale per output column of each weight: the weights stored as int8, the
    /// activations quantised to uint8 at run time (see <see cref="OnnxInt8"/>).
    /// </summary>
    Int8,
    /// <summary>Dynamic int8 with one scale per weight matrix (ONNX Runtime's quantize_dynamic default); measured and not chosen (docs/deployment.md).</summary>
    Int8PerTensor,
}
