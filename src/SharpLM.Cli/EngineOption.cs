using System.CommandLine;
using SharpLM.Interop.Onnx;

namespace SharpLM.Cli;

/// <summary>The <c>--engine torch|onnx</c> option of the verbs that run a model.</summary>
internal static class EngineOption
{
    /// <summary>A new option (System.CommandLine options belong to one command each).</summary>
    public static Option<string> Create()
    {
        var option = new Option<string>("--engine")
        {
            Description = "torch: TorchSharp on the folder's weights; onnx: ONNX Runtime on a folder (or .onnx file) written by 'sharplm export onnx'.",
            DefaultValueFactory = _ => "torch",
        };
        option.AcceptOnlyFromAmong("torch", "onnx");
        return option;
    }

    /// <summary>The engine the option names.</summary>
    public static InferenceEngine Of(ParseResult parse, Option<string> option) =>
        parse.GetValue(option) == "onnx" ? InferenceEngine.Onnx : InferenceEngine.Torch;
}
