using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Knowledge distillation's loss (Hinton et al. 2015, as DistilBERT and TinyBERT's task stage use it): the student
/// learns the teacher's distribution softened by a temperature T, measured by the KL divergence between the two
/// softened distributions and scaled by T² so that its gradients keep their size as T changes, mixed with the
/// usual loss on the gold labels.
/// </summary>
/// <param name="Temperature">T: above 1 spreads the teacher's probability over the labels it ranks second, which is what the student learns from.</param>
/// <param name="Alpha">The weight of the teacher's term; the gold labels' loss gets 1 - Alpha.</param>
public sealed record DistillationLoss(double Temperature = 2, double Alpha = 0.5)
{
    /// <summary>Checks the settings; the message names the option.</summary>
    public DistillationLoss Validate()
    {
        if (!(Temperature > 0) || !double.IsFinite(Temperature)) throw new InvalidInputException($"--temperature is {Temperature}; it must be a positive number.");
        if (!(Alpha >= 0 && Alpha <= 1)) throw new InvalidInputException($"--alpha is {Alpha}; it must be in [0, 1].");
        return this;
    }

    /// <summary>
    /// T² · KL(softmax(teacher / T) ‖ softmax(student / T)), averaged over the rows of <paramref name="student"/> and
    /// <paramref name="teacher"/> [rows, labels] (one row per example or per word).
    /// </summary>
    public Tensor Soft(Tensor student, Tensor teacher)
    {
        using var scope = NewDisposeScope();
        var studentLog = (student / Temperature).log_softmax(-1);
        var teacherLog = (teacher.to(student.dtype) / Temperature).log_softmax(-1);
        var kl = (teacherLog.exp() * (teacherLog - studentLog)).sum(-1).mean();
        return (kl * (Temperature * Temperature)).MoveToOuterDisposeScope();
    }

    /// <summary>Alpha · <see cref="Soft"/> + (1 - Alpha) · <paramref name="hard"/>, the gold labels' loss computed by the task.</summary>
    public Tensor Mix(Tensor soft, Tensor hard) => Alpha == 1 ? soft * 1.0 : Alpha == 0 ? hard * 1.0 : soft * Alpha + hard * (1 - Alpha);
}
