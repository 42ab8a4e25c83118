namespace SharpLM.Training;

/// <summary>Settings of a pretraining run, with the defaults of BERT's recipe scaled to small models.</summary>
/// <param name="BatchSize">Examples per micro-batch.</param>
/// <param name="GradientAccumulation">Micro-batches per optimizer step.</param>
/// <param name="LearningRate">Peak learning rate.</param>
/// <param name="WeightDecay">AdamW weight decay, applied to weight matrices only (not biases or LayerNorm).</param>
/// <param name="WarmupSteps">Linear warmup steps.</param>
/// <param name="Schedule">linear, cosine or constant after warmup.</param>
/// <param name="MaxSteps">Optimizer steps.</param>
/// <param name="MaxTime">Wall-clock budget; when set, the schedule follows elapsed time and training stops at the budget.</param>
/// <param name="EvalEvery">Steps between evaluations (0: only at the end).</param>
/// <param name="SaveEvery">Steps between checkpoints (0: only at the end).</param>
/// <param name="LogEvery">Steps between progress lines and metrics records.</param>
/// <param name="Seed">Seed of initialisation, batch order, dynamic masks and dropout.</param>
/// <param name="DynamicMasking">Mask each example afresh every time it is served (RoBERTa).</param>
/// <param name="MaxGradNorm">Gradient clipping norm.</param>
/// <param name="EvalBatches">Validation batches per evaluation (0: all).</param>
/// <param name="SkipNonFinite">On a NaN or infinite loss or gradient norm, skip that step's update (and count it) instead of stopping.</param>
/// <param name="KeepCheckpoints">Checkpoints kept on disk, newest first (0: all).</param>
/// <param name="GroupByLength">Batch examples of similar length together, so that less of each batch is padding.</param>
/// <param name="AdamBeta2">AdamW's second-moment decay (BERT 0.999; Cramming and RoBERTa 0.98, steadier at high learning rates).</param>
/// <param name="AdamEpsilon">AdamW's epsilon (BERT 1e-6).</param>
/// <param name="Precision">fp32; bf16: matrix products and attention in bfloat16, weights, optimizer state and losses in float32 (see <see cref="Model.MixedPrecision"/>); auto: bf16 where the CPU has bfloat16 dot products, else fp32.</param>
public sealed record PretrainingOptions(
    int BatchSize = 32,
    int GradientAccumulation = 1,
    double LearningRate = 1e-4,
    double WeightDecay = 0.01,
    int WarmupSteps = 100,
    string Schedule = "linear",
    int MaxSteps = 1000,
    TimeSpan? MaxTime = null,
    int EvalEvery = 0,
    int SaveEvery = 0,
    int LogEvery = 10,
    int Seed = 42,
    bool DynamicMasking = false,
    double MaxGradNorm = 1.0,
    int EvalBatches = 0,
    bool SkipNonFinite = false,
    int KeepCheckpoints = 3,
    bool GroupByLength = false,
    double AdamBeta2 = 0.999,
    double AdamEpsilon = 1e-6,
    string Precision = "fp32")
{
    /// <summary>Checks the settings; the message names the option.</summary>
    public PretrainingOptions Validate()
    {
        if (BatchSize < 1) throw new InvalidInputException($"--batch-size {BatchSize}: must be at least 1.");
        if (GradientAccumulation < 1) throw new InvalidInputException($"--grad-accum {GradientAccumulation}: must be at least 1.");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) throw new InvalidInputException($"--lr {LearningRate}: must be a positive number.");
        if (!(WeightDecay >= 0) || double.IsInfinity(WeightDecay)) throw new InvalidInputException($"--weight-decay {WeightDecay}: must be zero or positive.");
        if (WarmupSteps < 0) throw new InvalidInputException($"--warmup-steps {WarmupSteps}: must not be negative.");
        if (!LearningRateSchedule.Kinds.Contains(Schedule)) throw new InvalidInputException($"--schedule {Schedule}: use linear, cosine or constant.");
        if (MaxSteps < 1) throw new InvalidInputException($"--max-steps {MaxSteps}: must be at least 1.");
        if (MaxTime is { } t && t <= TimeSpan.Zero) throw new InvalidInputException($"--max-time: must be positive.");
        if (KeepCheckpoints < 0) throw new InvalidInputException($"--keep-checkpoints {KeepCheckpoints}: must be zero (keep all) or positive.");
        if (!(AdamBeta2 >= 0 && AdamBeta2 < 1)) throw new InvalidInputException($"--adam-beta2 {AdamBeta2}: must be in [0, 1).");
        if (!(AdamEpsilon > 0) || double.IsInfinity(AdamEpsilon)) throw new InvalidInputException($"--adam-epsilon {AdamEpsilon}: must be a positive number.");
        if (!(MaxGradNorm > 0) || double.IsInfinity(MaxGradNorm)) throw new InvalidInputException($"--clip {MaxGradNorm}: must be a positive number.");
        Model.MixedPrecision.Parse(Precision);
        if (LogEvery < 1) throw new InvalidInputException($"log interval {LogEvery}: must be at least 1.");
        return this;
    }
}
