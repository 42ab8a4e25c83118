using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tests.Torch;

public class TorchSharpLoadsTests
{
    [Fact]
    public void A_matmul_and_its_backward_pass_run_on_the_native_library()
    {
        using var scope = NewDisposeScope();
        var x = tensor(new float[] { 1, 2, 3, 4 }, 2, 2).requires_grad_(true);
        var loss = x.matmul(x).sum();
        loss.backward();
        // x@x = [[7,10],[15,22]] sums to 54; d sum(x@x) / dx[a,b] = (row b of x summed) + (column a of x summed).
        Assert.Equal(54f, loss.item<float>());
        var grad = x.grad!.data<float>().ToArray();
        Assert.Equal(new float[] { 7, 11, 9, 13 }, grad);
    }
}
