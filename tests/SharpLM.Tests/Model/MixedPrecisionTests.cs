using SharpLM.Model;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

/// <summary>
/// bf16 mixed precision against float32 on the same weights and batch: the loss within 0.1% and every
/// gradient within 3% (norm of the difference over the float32 gradient's norm), with weights and
/// gradients still float32. bfloat16 keeps 8 significant bits (a relative rounding of 0.4% per
/// element); measured here: the loss within 3e-5 and the worst gradient (a query projection's) within
/// 1.1%. A wrong cast (a product left out of the graph, a mask in the wrong dtype) moves them far more.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class MixedPrecisionTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_bf16_step_gives_the_float32_loss_and_gradients_within_tolerance(bool cramming)
    {
        using var scope = NewDisposeScope();
        var config = new BertConfig
        {
            VocabSize = 300, HiddenSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 256, MaxPositionEmbeddings = 64,
            HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0, SparseMaskedLm = true,
            PreLayerNorm = cramming, GatedFeedForward = cramming, LinearBias = !cramming,
        };
        random.manual_seed(3);
        using var model = new BertForPreTraining(config);
        var generator = new Generator(11);
        var ids = randint(5, config.VocabSize, [8, 48], dtype: int64, generator: generator);
        var types = zeros([8, 48], dtype: int64);
        var attention = ones([8, 48], dtype: int64);
        attention[7, 40..] = 0;
        var labels = full([8, 48], BertForPreTraining.IgnoreIndex, dtype: int64);
        var chosen = rand([8, 48], generator: generator).lt(0.15).logical_and(attention.eq(1));
        labels = where(chosen, ids, labels);
        var input = where(chosen, full([8, 48], 4L, dtype: int64), ids);
        var nsp = randint(0, 2, [8], dtype: int64, generator: generator);

        (double Loss, Dictionary<string, Tensor> Gradients) Step(ScalarType? compute)
        {
            MixedPrecision.Apply(model, compute);
            model.zero_grad();
            var (total, _, _) = model.Loss(input, types, attention, labels, nsp);
            total.backward();
            Assert.Equal(ScalarType.Float32, total.dtype);
            return (total.item<float>(), model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
        }
        var (fullLoss, fullGradients) = Step(null);
        var (mixedLoss, mixedGradients) = Step(ScalarType.BFloat16);

        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        Assert.All(mixedGradients.Values, g => Assert.Equal(ScalarType.Float32, g.dtype));
        double lossDifference = Math.Abs(mixedLoss - fullLoss) / fullLoss;
        Assert.True(lossDifference < 1e-3, $"loss: bf16 {mixedLoss}, float32 {fullLoss}");
        double worst = 0;
        string worstName = "";
        foreach (var (name, full) in fullGradients)
        {
            double norm = full.norm().item<float>();
            if (norm < 1e-6) continue; // a gradient that is zero in theory (the key bias) has no relative error
            double relative = (mixedGradients[name] - full).norm().item<float>() / norm;
            if (relative > worst) (worst, worstName) = (relative, name);
        }
        output.WriteLine($"{(cramming ? "cramming" : "bert")}: loss float32 {fullLoss:F6}, bf16 {mixedLoss:F6} ({lossDifference:E2} relative); worst gradient {worstName}: {worst:E2}");
        Assert.True(worst < 0.03, $"gradient of {worstName}: {worst:E2} relative to float32");
    }
}
