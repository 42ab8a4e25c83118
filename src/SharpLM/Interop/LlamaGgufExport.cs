using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Interop;

/// <summary>
/// A causal model folder as a GGUF file for llama.cpp: the llama architecture's metadata, the GPT-2-style byte-level
/// BPE (tokens, types, merges, the GPT-2 pre-tokenizer, end-of-text as beginning and end), and the weights under
/// llama.cpp's names. Query and key projections are permuted from Hugging Face's rotate-half layout to the interleaved
/// pairs llama.cpp rotates, as llama.cpp's own convert_hf_to_gguf.py does. Norm weights stay float32 in every type.
/// </summary>
public static class LlamaGgufExport
{
    /// <summary>The output types: f32, f16 and q8_0, with general.file_type's numbers.</summary>
    public static readonly IReadOnlyDictionary<string, (GgufTensorType Type, uint FileType)> Types = new Dictionary<string, (GgufTensorType, uint)>
    {
        ["f32"] = (GgufTensorType.F32, 0), ["f16"] = (GgufTensorType.F16, 1), ["q8_0"] = (GgufTensorType.Q8_0, 7),
    };

    /// <summary>Writes <paramref name="model"/> and <paramref name="tokenizer"/> to <paramref name="path"/> with weights of <paramref name="type"/>.</summary>
    /// <exception cref="InvalidInputException">The type is not f32, f16 or q8_0.</exception>
    public static void Write(LlamaForCausalLM model, ByteLevelBpeTokenizer tokenizer, string path, string type, string name = "sharplm")
    {
        if (!Types.TryGetValue(type, out var chosen)) throw new InvalidInputException($"--type {type}: use {string.Join(", ", Types.Keys)}.");
        var config = model.Config;
        var gguf = new GgufFile();
        gguf.Add("general.architecture", "llama");
        gguf.Add("general.name", name);
        gguf.Add("general.file_type", chosen.FileType);
        gguf.Add("llama.vocab_size", (uint)config.VocabSize);
        gguf.Add("llama.context_length", (uint)config.MaxPositionEmbeddings);
        gguf.Add("llama.embedding_length", (uint)config.HiddenSize);
        gguf.Add("llama.block_count", (uint)config.NumHiddenLayers);
        gguf.Add("llama.feed_forward_length", (uint)config.IntermediateSize);
        gguf.Add("llama.rope.dimension_count", (uint)config.HeadSize);
        gguf.Add("llama.attention.head_count", (uint)config.NumAttentionHeads);
        gguf.Add("llama.attention.head_count_kv", (uint)config.NumKeyValueHeads);
        gguf.Add("llama.attention.layer_norm_rms_epsilon", (float)config.RmsNormEps);
        gguf.Add("llama.rope.freq_base", (float)config.RopeTheta);

        // Every id up to vocab_size needs a token: a config wider than the tokenizer gets unused placeholders.
        var tokens = new List<string>();
        var kinds = new List<int>();
        for (int id = 0; id < config.VocabSize; id++)
        {
            bool known = id < tokenizer.Count && tokenizer.Token(id) is not null;
            string token = known ? tokenizer.Token(id) : $"[PAD{id}]";
            tokens.Add(token);
            // llama.cpp's token types: 1 normal, 3 control, 5 unused.
            kinds.Add(!known ? 5 : tokenizer.SpecialTokens.Contains(token) ? 3 : 1);
        }
        gguf.Add("tokenizer.ggml.model", "gpt2");
        gguf.Add("tokenizer.ggml.pre", "gpt-2");
        gguf.Add("tokenizer.ggml.tokens", tokens);
        gguf.Add("tokenizer.ggml.token_type", kinds);
        gguf.Add("tokenizer.ggml.merges", tokenizer.Merges.Select(m => $"{m.Left} {m.Right}").ToList());
        gguf.Add("tokenizer.ggml.bos_token_id", (uint)config.BosTokenId);
        gguf.Add("tokenizer.ggml.eos_token_id", (uint)config.EosTokenId);
        gguf.Add("tokenizer.ggml.add_bos_token", true);
        gguf.Add("tokenizer.ggml.add_eos_token", false);

        var weights = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        void Tensor(string ggufName, Tensor value, bool keepF32 = false)
        {
            using var flat = value.detach().to(float32).contiguous();
            gguf.AddTensor(ggufName, flat.shape, flat.data<float>().ToArray(), keepF32 ? GgufTensorType.F32 : chosen.Type);
        }
        Tensor("token_embd.weight", weights["model.embed_tokens.weight"]);
        for (int layer = 0; layer < config.NumHiddenLayers; layer++)
        {
            string hf = $"model.layers.{layer}.", blk = $"blk.{layer}.";
            Tensor(blk + "attn_norm.weight", weights[hf + "input_layernorm.weight"], keepF32: true);
            using (var q = Interleaved(weights[hf + "self_attn.q_proj.weight"], config.NumAttentionHeads)) Tensor(blk + "attn_q.weight", q);
            using (var k = Interleaved(weights[hf + "self_attn.k_proj.weight"], config.NumKeyValueHeads)) Tensor(blk + "attn_k.weight", k);
            Tensor(blk + "attn_v.weight", weights[hf + "self_attn.v_proj.weight"]);
            Tensor(blk + "attn_output.weight", weights[hf + "self_attn.o_proj.weight"]);
            Tensor(blk + "ffn_norm.weight", weights[hf + "post_attention_layernorm.weight"], keepF32: true);
            Tensor(blk + "ffn_gate.weight", weights[hf + "mlp.gate_proj.weight"]);
            Tensor(blk + "ffn_up.weight", weights[hf + "mlp.up_proj.weight"]);
            Tensor(blk + "ffn_down.weight", weights[hf + "mlp.down_proj.weight"]);
        }
        Tensor("output_norm.weight", weights["model.norm.weight"], keepF32: true);
        // A tied model has no output.weight: llama.cpp then multiplies by token_embd, as Hugging Face does.
        if (weights.TryGetValue("lm_head.weight", out var head)) Tensor("output.weight", head);
        gguf.Save(path);
    }

    // Hugging Face rotates dimension i of a head with i + d/2; llama.cpp rotates adjacent pairs (2i, 2i + 1). Reordering
    // each head's output rows as 0, d/2, 1, d/2 + 1, ... makes the one rotation the other.
    private static Tensor Interleaved(Tensor weight, int heads)
    {
        long rows = weight.shape[0], columns = weight.shape[1];
        using var split = weight.detach().reshape(heads, 2, rows / heads / 2, columns);
        using var swapped = split.transpose(1, 2);
        return swapped.reshape(rows, columns);
    }
}
