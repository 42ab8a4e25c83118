using SharpLM.Model;
using TorchSharp;
using TorchSharp.PyBridge;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

/// <summary>
/// Training parity with PyTorch: the reference BertForPreTraining in tests/reference/bert_pretraining.py
/// (plain PyTorch 1.13, Debian's python3-torch) loads the same weights and batch from safetensors; the
/// masked-LM and NSP losses, every parameter's gradient, and the weights after one AdamW step must agree.
/// </summary>
/// <remarks>
/// In float64 every tensor must agree to 1e-5 relative (norm of the difference over norm of
/// PyTorch's): that proves the same mathematics, free of rounding. In float32, the dtype models
/// train in, losses must agree to 1e-5 relative and every element of every gradient and weight to
/// 1e-5 relative plus 1e-7 absolute (torch.allclose): a norm-relative test cannot hold there for
/// tensors whose value is a cancelling sum, such as the NSP bias gradient (about 2e-3 from terms
/// near 0.5), where reduction order alone moves the relative difference past 1e-5.
/// </remarks>
public class PyTorchParityTests(ITestOutputHelper output) : IDisposable
{
    private const double LearningRate = 1e-3, WeightDecay = 0.01;

    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static BertConfig Config(bool sparse, string positions) => new BertConfig
    {
        VocabSize = 211, HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 128,
        MaxPositionEmbeddings = 64, HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0, SparseMaskedLm = sparse,
        PositionEmbeddingType = positions,
    };

    [Theory]
    [InlineData(ScalarType.Float64, false, "absolute")]
    [InlineData(ScalarType.Float32, false, "absolute")]
    [InlineData(ScalarType.Float32, true, "absolute")]
    [InlineData(ScalarType.Float64, true, "relative_key")]
    [InlineData(ScalarType.Float64, false, "relative_key_query")]
    [InlineData(ScalarType.Float32, true, "relative_key")]
    public void Losses_gradients_and_one_AdamW_step_agree_with_PyTorch(ScalarType dtype, bool sparseMaskedLm, string positions)
    {
        using var scope = NewDisposeScope();
        var config = Config(sparseMaskedLm, positions);
        var generator = new Generator(20261129);
        using var model = new BertForPreTraining(config);
        model.to(dtype);
        using (no_grad())
            foreach (var (_, parameter) in model.named_parameters())
                parameter.copy_(randn(parameter.shape, generator: generator) * 0.05);
        var batch = Batch(config, batchSize: 4, length: 24, generator);
        bool exact = dtype == ScalarType.Float64;

        string weightsPath = _temp.Of("weights.safetensors"), batchPath = _temp.Of("batch.safetensors");
        string configPath = _temp.Of("config.json"), resultPath = _temp.Of("pytorch.safetensors");
        Safetensors.SaveStateDict(weightsPath, model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
        Safetensors.SaveStateDict(batchPath, batch);
        config.Save(configPath);
        RunReference(configPath, weightsPath, batchPath, resultPath);
        var reference = Safetensors.LoadStateDict(resultPath);

        model.train();
        var (total, mlm, nsp) = model.Loss(batch["input_ids"], batch["token_type_ids"], batch["attention_mask"], batch["mlm_labels"], batch["nsp_labels"]);
        total.backward();
        AssertClose("MLM loss", mlm, reference["loss.mlm"], exact: true);
        AssertClose("NSP loss", nsp, reference["loss.nsp"], exact: true);
        AssertClose("total loss", total, reference["loss.total"], exact: true);
        output.WriteLine($"losses: MLM {mlm.to(float64).item<double>():F9} (PyTorch {reference["loss.mlm"].to(float64).item<double>():F9}), NSP {nsp.to(float64).item<double>():F9} (PyTorch {reference["loss.nsp"].to(float64).item<double>():F9})");

        var parameters = model.named_parameters().ToList();
        // Under relative positions the position embeddings take no part in the loss: no gradient on either side.
        var unused = parameters.Where(p => p.parameter.grad is null).Select(p => p.name).ToList();
        Assert.Equal(positions == "absolute" ? [] : ["bert.embeddings.position_embeddings.weight"], unused);
        Assert.Equal(parameters.Count - unused.Count, reference.Keys.Count(k => k.StartsWith("grad.")));
        double worstGradient = 0;
        foreach (var (name, parameter) in parameters.Where(p => !unused.Contains(p.name)))
            worstGradient = Math.Max(worstGradient, AssertClose("gradient of " + name, parameter.grad!, reference["grad." + name], exact));

        var optimizer = optim.AdamW(model.parameters(), LearningRate, 0.9, 0.999, 1e-6, WeightDecay);
        optimizer.step();
        double worstWeight = 0;
        foreach (var (name, parameter) in parameters)
            worstWeight = Math.Max(worstWeight, AssertClose("weight after AdamW of " + name, parameter, reference["after." + name], exact));
        output.WriteLine($"{dtype}, sparse MLM {sparseMaskedLm}, {positions} positions: worst norm-relative difference: gradients {worstGradient:E2}, weights after one AdamW step {worstWeight:E2}");
    }

    /// <summary>A padded batch of random ids with 15% of real positions as masked-LM targets.</summary>
    private static Dictionary<string, Tensor> Batch(BertConfig config, int batchSize, int length, Generator generator)
    {
        var ids = randint(5, config.VocabSize, [batchSize, length], dtype: int64, generator: generator);
        var lengths = new long[] { length, length - 5, length - 11, 9 };
        var attention = zeros([batchSize, length], dtype: int64);
        var types = zeros([batchSize, length], dtype: int64);
        for (int b = 0; b < batchSize; b++)
        {
            attention[b, ..(int)lengths[b]] = 1;
            types[b, (int)(lengths[b] / 2)..(int)lengths[b]] = 1;
            ids[b, (int)lengths[b]..] = config.PadTokenId;
        }
        var chosen = rand([batchSize, length], generator: generator).lt(0.15).logical_and(attention.eq(1));
        chosen[.., 1] = true; // at least one target per row
        var labels = where(chosen, ids, full([batchSize, length], BertForPreTraining.IgnoreIndex, dtype: int64));
        var nsp = randint(0, 2, [batchSize], dtype: int64, generator: generator);
        return new Dictionary<string, Tensor>
        {
            ["input_ids"] = ids, ["token_type_ids"] = types, ["attention_mask"] = attention, ["mlm_labels"] = labels, ["nsp_labels"] = nsp,
        };
    }

    private static void RunReference(string config, string weights, string batch, string result) =>
        ReferencePython.Run("bert_pretraining.py", config, weights, batch, result, LearningRate.ToString("R"), WeightDecay.ToString("R"));

    /// <summary>
    /// Returns the norm-relative difference ||ours - theirs|| / ||theirs||. Exact: asserts it is at most
    /// 1e-5. Otherwise: asserts |ours - theirs| &lt;= 1e-7 + 1e-5 |theirs| element by element. A tensor
    /// that is zero up to rounding on both sides (the key bias gradient is zero in theory: a constant
    /// added to every score of a query leaves its softmax unchanged) passes on an absolute 1e-7.
    /// </summary>
    private static double AssertClose(string what, Tensor ours, Tensor theirs, bool exact)
    {
        Assert.Equal(theirs.shape, ours.shape);
        using var a = ours.detach().to(float64);
        using var b = theirs.to(float64);
        using var difference = (a - b).norm();
        using var size = b.norm();
        double absolute = difference.item<double>(), norm = size.item<double>();
        if (absolute <= 1e-7 && norm <= 1e-6) return 0;
        double relative = absolute / norm;
        if (exact) Assert.True(relative <= 1e-5, $"{what}: relative difference {relative:E2} (|theirs| {norm:E2})");
        else Assert.True(a.allclose(b, rtol: 1e-5, atol: 1e-7), $"{what}: not within 1e-5 relative + 1e-7 absolute (norm-relative difference {relative:E2})");
        return relative;
    }
}
