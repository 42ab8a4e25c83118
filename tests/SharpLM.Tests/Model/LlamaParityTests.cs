using SharpLM.Model;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

/// <summary>
/// The Llama decoder against PyTorch: tests/reference/llama_causal.py is a plain PyTorch 1.13 LlamaForCausalLM with
/// Hugging Face's module names, attention written out with an explicit causal mask. It loads the weights SharpLM
/// wrote (strict, so every name must match) and computes the logits, the next-token loss, every gradient and one
/// AdamW step on the same batch. The bounds are the BERT parity tests' (float64: 1e-5 norm-relative, and far
/// closer in practice).
/// </summary>
public class LlamaParityTests(ITestOutputHelper output) : IDisposable
{
    private const double LearningRate = 1e-3, WeightDecay = 0.01;
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static LlamaConfig Config(bool tied, int keyValueHeads) => new()
    {
        VocabSize = 97, HiddenSize = 64, IntermediateSize = 96, NumHiddenLayers = 2, NumAttentionHeads = 4,
        NumKeyValueHeads = keyValueHeads, MaxPositionEmbeddings = 64, RmsNormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = tied,
    };

    [Theory]
    [InlineData(true, 4)]
    [InlineData(false, 2)]
    public void Logits_loss_gradients_and_one_AdamW_step_agree_with_PyTorch(bool tied, int keyValueHeads)
    {
        using var scope = NewDisposeScope();
        var config = Config(tied, keyValueHeads);
        var random = new Generator(20261203);
        using var model = new LlamaForCausalLM(config);
        model.to(float64);
        using (no_grad())
            foreach (var (_, parameter) in model.named_parameters())
                parameter.copy_(randn(parameter.shape, dtype: float64, generator: random) * 0.2 + (parameter.dim() == 1 ? 1 : 0));
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("model.layers.1.self_attn.k_proj.weight", names);
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", names);
        Assert.Contains("model.layers.0.post_attention_layernorm.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.Equal(!tied, names.Contains("lm_head.weight"));
        Assert.Equal([64L / 4 * keyValueHeads, 64L], model.named_parameters().First(p => p.name == "model.layers.0.self_attn.v_proj.weight").parameter.shape);

        var ids = randint(0, config.VocabSize, [3, 13], dtype: int64, generator: random);
        string configPath = _temp.Of("config.json"), weightsPath = _temp.Of("model.safetensors"), batchPath = _temp.Of("batch.safetensors"), resultPath = _temp.Of("result.safetensors");
        config.Save(configPath);
        Safetensors.SaveStateDict(weightsPath, model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
        Safetensors.SaveStateDict(batchPath, new Dictionary<string, Tensor> { ["input_ids"] = ids });
        ReferencePython.Run("llama_causal.py", configPath, weightsPath, batchPath, resultPath, LearningRate.ToString("R"), WeightDecay.ToString("R"));
        var reference = Safetensors.LoadStateDict(resultPath);

        model.train();
        using (no_grad())
            AssertClose("logits", model.forward(ids), reference["logits"]);
        var loss = model.Loss(ids);
        loss.backward();
        AssertClose("loss", loss, reference["loss"]);
        double worstGradient = 0;
        foreach (var (name, parameter) in model.named_parameters())
            worstGradient = Math.Max(worstGradient, AssertClose("gradient of " + name, parameter.grad!, reference["grad." + name]));
        var optimizer = optim.AdamW(model.parameters(), LearningRate, 0.9, 0.999, 1e-8, WeightDecay);
        optimizer.step();
        double worstWeight = 0;
        foreach (var (name, parameter) in model.named_parameters())
            worstWeight = Math.Max(worstWeight, AssertClose("weight after AdamW of " + name, parameter, reference["after." + name]));
        output.WriteLine($"tied {tied}, {keyValueHeads} kv heads: loss {loss.item<double>():F9} (PyTorch {reference["loss"].item<double>():F9}); " +
            $"worst norm-relative difference: gradients {worstGradient:E2}, weights after AdamW {worstWeight:E2}");
    }

    [Fact]
    public void Cached_generation_gives_the_logits_of_the_whole_sequence()
    {
        using var scope = NewDisposeScope();
        var config = Config(tied: false, keyValueHeads: 2);
        var random = new Generator(7);
        using var model = new LlamaForCausalLM(config);
        model.Initialize(random);
        model.eval();
        using var _ = no_grad();
        var ids = randint(0, config.VocabSize, [2, 11], dtype: int64, generator: random);
        var whole = model.forward(ids);
        using var cache = model.NewCache();
        // A prompt of 5, then 2 tokens at once (the shifted causal mask), then one at a time.
        var pieces = new List<Tensor> { model.Logits(ids.narrow(1, 0, 5), cache), model.Logits(ids.narrow(1, 5, 2), cache) };
        for (int t = 7; t < 11; t++) pieces.Add(model.Logits(ids.narrow(1, t, 1), cache));
        Assert.Equal(11, cache.Length);
        var stepped = cat(pieces, 1);
        double worst = (stepped - whole).abs().max().item<float>();
        Assert.True(worst < 1e-5, $"cached logits differ from the whole sequence's by {worst:E2}");
    }

    private static double AssertClose(string what, Tensor ours, Tensor theirs)
    {
        Assert.Equal(theirs.shape, ours.shape);
        using var a = ours.detach().to(float64);
        using var b = theirs.to(float64);
        double absolute = (a - b).norm().item<double>(), norm = b.norm().item<double>();
        double relative = absolute / norm;
        Assert.True(relative <= 1e-5, $"{what}: relative difference {relative:E2} (|theirs| {norm:E2})");
        return relative;
    }
}
