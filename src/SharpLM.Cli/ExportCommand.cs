using System.CommandLine;
using System.Text.Json;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm export onnx</c>: a model folder as one ONNX file, with its tokenizer and config beside it;
/// <c>sharplm export gguf</c>: a causal model as one GGUF file for llama.cpp.
/// </summary>
public static class ExportCommand
{
    /// <summary>Creates the <c>export</c> verb and its <c>onnx</c> and <c>gguf</c> sub-verbs.</summary>
    public static Command Create(CommandContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder: pretrained (masked LM, NSP), bare encoder, classifier, tagger, QA, ELECTRA discriminator or generator.", Required = true };
        var output = new Option<string>("--output") { Description = "The .onnx file to write (or a folder: model.onnx in it); config.json, vocab.txt, tokenizer_config.json, tokenizer.json (and a tagger's crf.json) go beside it.", Required = true };
        var quantize = new Option<string?>("--quantize") { Description = "int8: dynamic int8 weights of every linear layer (embeddings and the tied masked-LM decoder stay float32)." };
        quantize.AcceptOnlyFromAmong("int8");
        var opset = new Option<int>("--opset") { Description = "ONNX opset (17 to 21).", DefaultValueFactory = _ => OnnxExport.DefaultOpset };
        var onnx = new Command("onnx", "Write the model as ONNX (inputs input_ids, attention_mask, token_type_ids; outputs named as Hugging Face Optimum names them), to run with ONNX Runtime.")
        {
            model, output, quantize, opset,
        };
        onnx.SetAction(parse =>
        {
            var result = OnnxExport.Export(parse.GetValue(model)!, parse.GetValue(output)!,
                parse.GetValue(quantize) == "int8" ? OnnxQuantization.Int8 : OnnxQuantization.None, parse.GetValue(opset));
            context.Output.WriteLine(JsonSerializer.Serialize(new
            {
                onnx = result.OnnxFile,
                architecture = result.Architecture,
                outputs = result.Outputs,
                bytes = result.Bytes,
                beside = result.FilesBeside,
            }));
            return 0;
        });
        var causal = new Option<string>("--model") { Description = "A causal model folder (pretrain --objective causal).", Required = true };
        var ggufOutput = new Option<string>("--output") { Description = "The .gguf file to write.", Required = true };
        var type = new Option<string>("--type") { Description = "Weight type: f32, f16 or q8_0 (norm weights stay f32).", DefaultValueFactory = _ => "f32" };
        type.AcceptOnlyFromAmong([.. LlamaGgufExport.Types.Keys]);
        var gguf = new Command("gguf", "Write a causal model as GGUF (llama architecture, GPT-2-style BPE) for llama.cpp, Ollama, LM Studio and LLamaSharp.")
        {
            causal, ggufOutput, type,
        };
        gguf.SetAction(parse =>
        {
            string directory = parse.GetValue(causal)!, file = parse.GetValue(ggufOutput)!;
            var (llama, tokenizer) = LlamaCheckpoint.Load(directory);
            using (llama) LlamaGgufExport.Write(llama, tokenizer, file, parse.GetValue(type)!, Path.GetFileName(Path.GetFullPath(directory).TrimEnd('/')));
            context.Output.WriteLine(JsonSerializer.Serialize(new { gguf = file, type = parse.GetValue(type), bytes = new FileInfo(file).Length }));
            return 0;
        });
        return new Command("export", "Export a model for other runtimes.") { onnx, gguf };
    }
}
