using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

/// <summary>
/// ELECTRA against PyTorch: tests/reference/electra_pretraining.py builds Hugging Face's
/// ElectraForPreTraining and ElectraForMaskedLM in plain PyTorch 1.13, loads the weights SharpLM saved
/// as model folders (so the names are checked too), and computes the generator and discriminator losses
/// and every gradient on the same batch and the same replacements. In float64 every tensor must agree to
/// 1e-6 relative (norm of the difference over the norm of PyTorch's).
/// </summary>
public class ElectraParityTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Post-LayerNorm with biases (Hugging Face's ELECTRA), embeddings narrower than the hidden size so that embeddings_project is exercised.</summary>
    private static BertConfig DiscriminatorConfig() => new BertConfig
    {
        ModelType = "electra", Architecture = "ElectraForPreTraining", VocabSize = 97, HiddenSize = 64, EmbeddingWidth = 32, NumHiddenLayers = 2,
        NumAttentionHeads = 2, IntermediateSize = 128, MaxPositionEmbeddings = 32, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
    };

    [Fact]
    public void Generator_and_discriminator_losses_and_gradients_agree_with_PyTorch()
    {
        using var scope = NewDisposeScope();
        var discriminatorConfig = DiscriminatorConfig();
        var generatorConfig = ElectraPretraining.GeneratorConfig(discriminatorConfig);
        Assert.Equal(16, generatorConfig.HiddenSize);
        var random = new Generator(20261202);
        using var model = new ElectraPretraining(discriminatorConfig, generatorConfig);
        model.to(float64);
        using (no_grad())
            foreach (var (_, parameter) in model.named_parameters())
                parameter.copy_(randn(parameter.shape, dtype: float64, generator: random) * 0.1);

        // Two rows, the second padded; four masked positions, shown as [MASK] (id 4).
        const int length = 12;
        var original = randint(5, discriminatorConfig.VocabSize, [2, length], dtype: int64, generator: random);
        original[1, 9..] = 0;
        var attention = ones([2, length], dtype: int64);
        attention[1, 9..] = 0;
        var types = zeros([2, length], dtype: int64);
        types[0, 6..] = 1;
        var positions = tensor(new long[] { 2, 5, 7, length + 3 });
        var labels = original.reshape(-1).index_select(0, positions);
        var input = original.reshape(-1).index_fill(0, positions, 4).reshape(2, length);
        long tokens = attention.sum().item<long>();

        model.train();
        random.manual_seed(7);
        var (loss, corrupted, replaced, _) = model.Loss(input, types, attention, positions, labels, maskedInStep: 4, tokensInStep: tokens);
        loss.Total.backward();
        // The replacements are the generator's samples at the masked positions, the originals elsewhere.
        Assert.True(corrupted.reshape(-1).index_fill(0, positions, 0).eq(original.reshape(-1).index_fill(0, positions, 0)).all().item<bool>());
        Assert.True(corrupted.ne(original).to(float64).eq(replaced).all().item<bool>());

        var vocabulary = new Vocabulary(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", .. Enumerable.Range(0, discriminatorConfig.VocabSize - 5).Select(i => $"w{i}")]);
        var objective = new SharpLM.Training.ElectraObjective(model);
        string folder = _temp.Of("model");
        objective.Save(folder, vocabulary, lowercase: true);
        string batchPath = _temp.Of("batch.safetensors"), resultPath = _temp.Of("pytorch.safetensors");
        Safetensors.SaveStateDict(batchPath, new Dictionary<string, Tensor>
        {
            ["input_ids"] = input, ["token_type_ids"] = types, ["attention_mask"] = attention, ["positions"] = positions, ["labels"] = labels,
            ["original"] = original, ["corrupted"] = corrupted,
        });
        string generatorFolder = Path.Combine(folder, "generator");
        ReferencePython.Run("electra_pretraining.py", Path.Combine(folder, "config.json"), Path.Combine(generatorFolder, "config.json"),
            Path.Combine(folder, HuggingFaceCheckpoint.WeightsFile), Path.Combine(generatorFolder, HuggingFaceCheckpoint.WeightsFile), batchPath, resultPath);
        var reference = Safetensors.LoadStateDict(resultPath);

        AssertClose("generator loss", loss.Generator, reference["loss.generator"]);
        AssertClose("discriminator loss", loss.Discriminator, reference["loss.discriminator"]);
        AssertClose("total loss", loss.Total, reference["loss.total"]);
        var parameters = model.named_parameters().ToList();
        Assert.Equal(parameters.Count, reference.Keys.Count(k => k.StartsWith("grad.", StringComparison.Ordinal)));
        double worst = 0;
        foreach (var (name, parameter) in parameters)
            worst = Math.Max(worst, AssertClose("gradient of " + name, parameter.grad!, reference["grad." + name]));
        output.WriteLine($"losses: generator {loss.Generator.item<double>():F9}, discriminator {loss.Discriminator.item<double>():F9}; " +
            $"{parameters.Count} gradients, worst norm-relative difference {worst:E2}");
    }

    private static double AssertClose(string what, Tensor ours, Tensor theirs)
    {
        Assert.Equal(theirs.shape, ours.shape);
        using var a = ours.detach().to(float64);
        using var b = theirs.to(float64);
        double absolute = (a - b).norm().item<double>(), norm = b.norm().item<double>();
        if (absolute <= 1e-12 && norm <= 1e-10) return 0;
        double relative = absolute / norm;
        Assert.True(relative <= 1e-6, $"{what}: relative difference {relative:E2} (|theirs| {norm:E2})");
        return relative;
    }
}
