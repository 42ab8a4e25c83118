namespace SharpLM.Training;

/// <summary>
/// Settings of a fine-tuning run. Defaults follow the BERT paper's fine-tuning recipe as Hugging Face's
/// examples use it: AdamW at 5e-5 with weight decay 0.01 (not on biases and LayerNorm), 10% linear
/// warmup then linear decay, batches of 16, 3 epochs, gradients clipped at 1.0.
/// </summary>
public sealed record FineTuningOptions
{
    /// <summary>Passes over the training data.</summary>
    public int Epochs { get; init; } = 3;
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 5e-5;
    /// <summary>Examples per micro-batch.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Micro-batches per optimizer step (per rank, when several processes train together).</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Fraction of all steps spent warming up.</summary>
    public double WarmupFraction { get; init; } = 0.1;
    /// <summary>Decoupled weight decay on weight matrices.</summary>
    public double WeightDecay { get; init; } = 0.01;
    /// <summary>Gradient-norm clip.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    /// <summary>Seed of the shuffles, dropout and new head weights.</summary>
    public int Seed { get; init; } = 42;
    /// <summary>Evaluate every this many steps as well as at the end of each epoch; 0 for epoch ends only.</summary>
    public int EvalEvery { get; init; }
    /// <summary>Stop after this many evaluations without a better dev metric; 0 never stops early.</summary>
    public int Patience { get; init; }
    /// <summary>Log every this many steps.</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>Checks the settings; the message names the option.</summary>
    public FineTuningOptions Validate()
    {
        if (Epochs <= 0) throw new InvalidInputException($"--epochs is {Epochs}; it must be positive.");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InvalidInputException($"--lr is {LearningRate}; it must be a positive number.");
        if (BatchSize <= 0) throw new InvalidInputException($"--batch-size is {BatchSize}; it must be positive.");
        if (GradientAccumulation <= 0) throw new InvalidInputException($"--grad-accum is {GradientAccumulation}; it must be positive.");
        if (!(WarmupFraction >= 0 && WarmupFraction < 1)) throw new InvalidInputException($"--warmup is {WarmupFraction}; it must be in [0, 1).");
        if (!(WeightDecay >= 0)) throw new InvalidInputException($"--weight-decay is {WeightDecay}; it must not be negative.");
        if (EvalEvery < 0 || Patience < 0 || LogEvery <= 0) throw new InvalidInputException("--eval-every and --patience must not be negative, and the log interval must be positive.");
        return this;
    }
}

/// <summary>One logged fine-tuning step, and the dev metrics when it was evaluated (what metrics.jsonl holds per line).</summary>
public sealed record FineTuningLogRecord(int Step, int TotalSteps, int Epoch, double Loss, double LearningRate, double TokensPerSecond,
    double ElapsedSeconds, double EtaSeconds, IReadOnlyDictionary<string, double>? Dev, bool Best);
