namespace SharpLM.Interop.Onnx;

/// <summary>What runs a model's forward pass when it predicts.</summary>
public enum InferenceEngine
{
    /// <summary>TorchSharp (libtorch), eager, from a model folder with its weights.</summary>
    Torch,
    /// <summary>ONNX Runtime, from a folder that <c>sharplm export onnx</c> wrote.</summary>
    Onnx,
}
