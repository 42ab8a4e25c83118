namespace SharpLM.Training;

/// <summary>
/// Linear warmup from 0 to the peak over the warmup steps, then linear or cosine decay to 0 at the
/// last step, or constant (BERT uses linear; Hugging Face's get_linear_schedule_with_warmup and
/// get_cosine_schedule_with_warmup give the same values).
/// </summary>
public sealed record LearningRateSchedule(double Peak, int WarmupSteps, int TotalSteps, string Kind = "linear")
{
    /// <summary>Schedules SharpLM knows.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["linear", "cosine", "constant"];

    /// <summary>The learning rate of step <paramref name="step"/> (0-based), or at <paramref name="progress"/> of a time budget when given.</summary>
    /// <remarks>Warmup always counts steps; with a time budget the decay follows the elapsed fraction of the budget instead of steps.</remarks>
    public double At(int step, double? progress = null)
    {
        if (step < WarmupSteps) return Peak * step / WarmupSteps;
        if (Kind == "constant") return Peak;
        double decay = progress is double elapsed
            ? Math.Clamp(elapsed, 0, 1)
            : Math.Clamp((double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps), 0, 1);
        return Kind == "cosine" ? Peak * 0.5 * (1 + Math.Cos(Math.PI * decay)) : Peak * (1 - decay);
    }
}
