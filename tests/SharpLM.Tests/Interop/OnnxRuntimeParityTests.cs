using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpLM.Tests.Interop;

/// <summary>
/// Forward parity with a real pretrained BERT: all-MiniLM-L6-v2's weights, converted from its ONNX
/// file to a Hugging Face model directory, give in SharpLM what ONNX Runtime computes from the ONNX
/// file itself, on real sentences.
/// </summary>
public class OnnxRuntimeParityTests(ITestOutputHelper output)
{
    [Fact]
    public void Converted_weights_load_with_no_missing_or_unexpected_names()
    {
        using var model = new BertModel(MiniLmOnnx.Config);
        var report = HuggingFaceCheckpoint.Load(model, MiniLmOnnx.HuggingFaceWeights(), "all-MiniLM-L6-v2.onnx");
        Assert.Empty(report.Missing);
        Assert.Empty(report.Unexpected);
    }

    [Fact]
    public void Last_hidden_state_and_pooler_output_match_ONNX_Runtime_within_1e_4()
    {
        // Converted into the Hugging Face layout, then loaded from that directory as a user would.
        string directory = MiniLmOnnx.ModelDirectory;
        var config = BertConfig.Load(directory) with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        using var model = new BertModel(config);
        var report = HuggingFaceCheckpoint.Load(model, HuggingFaceCheckpoint.ReadWeights(directory), directory);
        Assert.Empty(report.Missing);
        model.eval();

        var tokenizer = BertTokenizer.Load(directory);
        var sentences = TestData.Lines(TestData.SotuPath).Skip(3).Take(5).Select(l => l[..Math.Min(400, l.Length)])
            .Concat(["The state of our Union is strong.", "床前明月光，疑是地上霜。", "Hello"]).ToList();
        var encoded = sentences.Select(s => tokenizer.Encode(s, maxLength: 128)).ToList();
        int batch = encoded.Count, length = encoded.Max(e => e.Length);
        long[] ids = new long[batch * length], types = new long[batch * length], mask = new long[batch * length];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < encoded[b].Length; t++)
            {
                ids[b * length + t] = encoded[b].Ids[t];
                types[b * length + t] = encoded[b].TypeIds[t];
                mask[b * length + t] = 1;
            }

        var (referenceHidden, referencePooled) = MiniLmOnnx.RunOnnx(ids, types, mask, batch, length);

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (hidden, pooled) = model.call(tensor(ids, batch, length), tensor(types, batch, length), tensor(mask, batch, length));
        double hiddenDiff = (hidden - tensor(referenceHidden, hidden.shape)).abs().max().item<float>();
        double pooledDiff = (pooled - tensor(referencePooled, pooled.shape)).abs().max().item<float>();
        output.WriteLine($"{batch} sentences x {length} tokens: max |difference| last_hidden_state {hiddenDiff:E2}, pooler_output {pooledDiff:E2}");
        Assert.True(hiddenDiff <= 1e-4, $"max |difference| of last_hidden_state: {hiddenDiff:E2}");
        Assert.True(pooledDiff <= 1e-4, $"max |difference| of pooler output: {pooledDiff:E2}");
        Assert.True(hidden.abs().max().item<float>() > 0.5, "real activations, not zeros");
    }
}
