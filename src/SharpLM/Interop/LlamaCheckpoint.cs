using System.Text.Json;
using System.Text.Json.Nodes;
using SharpLM.Model;
using SharpLM.Text;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpLM.Interop;

/// <summary>
/// A causal model folder in Hugging Face's layout: config.json (model_type llama), generation_config.json,
/// model.safetensors with LlamaForCausalLM's names, and the byte-level BPE tokenizer (tokenizer.json, vocab.json,
/// merges.txt, tokenizer_config.json for PreTrainedTokenizerFast), so that transformers' AutoModelForCausalLM and
/// AutoTokenizer load it, and llama.cpp's converter reads it.
/// </summary>
public static class LlamaCheckpoint
{
    /// <summary>Writes the folder, each file atomically.</summary>
    public static void Save(LlamaForCausalLM model, ByteLevelBpeTokenizer tokenizer, string directory)
    {
        var config = model.Config;
        if (tokenizer.Count != config.VocabSize)
            throw new InvalidInputException($"{directory}: the tokenizer has {tokenizer.Count} tokens but the model's vocab_size is {config.VocabSize}.");
        HuggingFaceCheckpoint.SaveWeights(model, directory);
        ByteLevelBpeFiles.Save(tokenizer, Path.Combine(directory, ByteLevelBpeFiles.TokenizerFile));
        string endOfText = tokenizer.Token(config.EosTokenId);
        var indented = new JsonSerializerOptions { WriteIndented = true };
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = "PreTrainedTokenizerFast", ["bos_token"] = tokenizer.Token(config.BosTokenId), ["eos_token"] = endOfText,
            ["unk_token"] = endOfText, ["add_prefix_space"] = false, ["model_max_length"] = config.MaxPositionEmbeddings,
        }.ToJsonString(indented) + "\n");
        AtomicFile.WriteAllText(Path.Combine(directory, "generation_config.json"), new JsonObject
        {
            ["_from_model_config"] = true, ["bos_token_id"] = config.BosTokenId, ["eos_token_id"] = config.EosTokenId,
        }.ToJsonString(indented) + "\n");
        config.Save(Path.Combine(directory, "config.json"));
    }

    /// <summary>
    /// Loads a causal model folder (SharpLM's or a Hugging Face Llama with a GPT-2-style byte-level BPE tokenizer.json)
    /// in eval mode; every weight must be there.
    /// </summary>
    /// <exception cref="InvalidInputException">A file is missing or unreadable, or a weight is missing or of the wrong shape.</exception>
    public static (LlamaForCausalLM Model, ByteLevelBpeTokenizer Tokenizer) Load(string directory)
    {
        var config = LlamaConfig.Load(directory);
        var tokenizer = ByteLevelBpeFiles.Load(directory);
        if (tokenizer.Count > config.VocabSize)
            throw new InvalidInputException($"{directory}: tokenizer.json has {tokenizer.Count} tokens but config.json's vocab_size is {config.VocabSize}.");
        var model = new LlamaForCausalLM(config);
        try
        {
            LoadWeights(model, directory);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        model.eval();
        return (model, tokenizer);
    }

    /// <summary>Copies the folder's weights into <paramref name="model"/>; every parameter must be filled.</summary>
    public static void LoadWeights(LlamaForCausalLM model, string directory)
    {
        var report = HuggingFaceCheckpoint.LoadWeights(model, directory);
        if (report.Missing.Count > 0)
            throw new InvalidInputException($"{directory}: the weights lack {report.Missing[0]}" + (report.Missing.Count > 1 ? $" and {report.Missing.Count - 1} more" : "") + "; not a complete Llama checkpoint.");
    }
}
