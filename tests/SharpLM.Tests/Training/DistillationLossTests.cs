using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

public class DistillationLossTests
{
    // KL(p || q) at temperature T, times T², worked out in doubles.
    private static double Expected(double[][] student, double[][] teacher, double t)
    {
        double total = 0;
        for (int r = 0; r < student.Length; r++)
        {
            double[] Softmax(double[] z) { var e = z.Select(v => Math.Exp(v / t)).ToArray(); return e.Select(v => v / e.Sum()).ToArray(); }
            var p = Softmax(teacher[r]);
            var q = Softmax(student[r]);
            total += p.Select((pi, i) => pi * Math.Log(pi / q[i])).Sum();
        }
        return total / student.Length * t * t;
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    public void The_soft_term_is_the_mean_KL_of_the_softened_distributions_scaled_by_T_squared(double temperature)
    {
        double[][] student = [[0.5, -1.0, 2.0], [3.0, 0.0, -2.0]], teacher = [[1.0, 0.0, 0.5], [-1.0, 2.5, 0.0]];
        using var s = tensor(student.SelectMany(r => r).Select(v => (float)v).ToArray(), 2, 3);
        using var t = tensor(teacher.SelectMany(r => r).Select(v => (float)v).ToArray(), 2, 3);
        using var soft = new DistillationLoss(temperature).Soft(s, t);
        Assert.Equal(Expected(student, teacher, temperature), soft.item<float>(), 5);
        using var same = new DistillationLoss(temperature).Soft(t, t);
        Assert.Equal(0, same.item<float>(), 6);
    }

    [Fact]
    public void The_gradient_of_the_soft_term_pulls_the_student_towards_the_teacher_with_T_times_the_difference()
    {
        // d/ds of T²·KL(softmax(t/T) || softmax(s/T)) = T·(softmax(s/T) - softmax(t/T)) per row, divided by the rows.
        const double T = 3;
        using var s = tensor(new float[] { 1, 2, 0 }, 1, 3).requires_grad_();
        using var t = tensor(new float[] { 0, 0, 4 }, 1, 3);
        using var soft = new DistillationLoss(T).Soft(s, t);
        soft.backward();
        using var expected = ((s.detach() / T).softmax(-1) - (t / T).softmax(-1)) * T;
        Assert.True(s.grad!.allclose(expected, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void Alpha_mixes_the_teacher_term_with_the_gold_loss()
    {
        using var soft = tensor(2.0f);
        using var hard = tensor(10.0f);
        Assert.Equal(6.0, new DistillationLoss(2, 0.5).Mix(soft, hard).item<float>(), 5);
        Assert.Equal(2.0, new DistillationLoss(2, 1).Mix(soft, hard).item<float>(), 5);
        Assert.Equal(10.0, new DistillationLoss(2, 0).Mix(soft, hard).item<float>(), 5);
    }
}
