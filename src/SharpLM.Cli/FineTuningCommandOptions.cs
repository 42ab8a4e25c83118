using System.CommandLine;
using SharpLM.Distributed;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary>The options every fine-tuning verb shares (finetune and distill): data, output, optimisation and threads.</summary>
internal sealed class FineTuningCommandOptions
{
    private static readonly FineTuningOptions Defaults = new();
    public readonly Option<string> Model = new("--model") { Description = "Pretrained model folder (config.json, vocab.txt, model.safetensors).", Required = true };
    public readonly Option<string> Train = new("--train") { Description = "Training data file.", Required = true };
    public readonly Option<string?> Dev = new("--dev") { Description = "Dev data file: evaluated every epoch; the best model is kept. Without it, the last model is saved." };
    public readonly Option<string> Output = new("--output") { Description = "Folder for the fine-tuned model.", Required = true };
    public readonly Option<bool> Overwrite = new("--overwrite") { Description = "Replace a model already in --output." };
    public readonly Option<int> Epochs = new("--epochs") { DefaultValueFactory = _ => Defaults.Epochs, Description = "Passes over the training data." };
    public readonly Option<double> LearningRate = new("--lr") { DefaultValueFactory = _ => Defaults.LearningRate, Description = "Peak learning rate (AdamW)." };
    public readonly Option<int> BatchSize = new("--batch-size") { DefaultValueFactory = _ => Defaults.BatchSize, Description = "Examples per micro-batch (a step takes --grad-accum of them on each rank)." };
    public readonly Option<int> GradAccum = new("--grad-accum") { DefaultValueFactory = _ => Defaults.GradientAccumulation, Description = "Micro-batches per step (per rank under mpirun)." };
    public readonly Option<int> Threads = TrainingThreadsOption.Create();
    public readonly Option<double> Warmup = new("--warmup") { DefaultValueFactory = _ => Defaults.WarmupFraction, Description = "Fraction of the steps spent warming up." };
    public readonly Option<double> WeightDecay = new("--weight-decay") { DefaultValueFactory = _ => Defaults.WeightDecay, Description = "AdamW weight decay (weights only)." };
    public readonly Option<int> Seed = new("--seed") { DefaultValueFactory = _ => Defaults.Seed, Description = "Seed of the head's initialisation, the shuffles and dropout." };
    public readonly Option<int> EvalEvery = new("--eval-every") { Description = "Also evaluate every N steps (default: at epoch ends only)." };
    public readonly Option<int> Patience = new("--patience") { Description = "Early stopping: stop after N evaluations without improvement (default: never)." };
    public readonly Option<string?> TensorBoard = TensorBoardLog.Option();

    /// <summary>The options of a verb: all of them, or all but --model (distill names a teacher and a student instead).</summary>
    public IEnumerable<Option> All(bool model = true) => (model ? [Model] : Array.Empty<Option>()).Concat(Shared);

    private IEnumerable<Option> Shared => [Train, Dev, Output, Overwrite, Epochs, LearningRate, BatchSize, GradAccum, Warmup, WeightDecay, Seed, EvalEvery, Patience, Threads, TensorBoard];

    /// <summary>The run's settings; also sets the intra-op threads.</summary>
    public FineTuningOptions Options(ParseResult parse)
    {
        TrainingThreadsOption.Apply(parse, Threads);
        return new FineTuningOptions
        {
            Epochs = parse.GetValue(Epochs), LearningRate = parse.GetValue(LearningRate), BatchSize = parse.GetValue(BatchSize),
            GradientAccumulation = parse.GetValue(GradAccum), WarmupFraction = parse.GetValue(Warmup), WeightDecay = parse.GetValue(WeightDecay),
            Seed = parse.GetValue(Seed), EvalEvery = parse.GetValue(EvalEvery), Patience = parse.GetValue(Patience),
        }.Validate();
    }

    /// <summary>
    /// The output folder, refused when it holds a model and --overwrite is not given (a finished run is never replaced by
    /// accident). Under mpirun only rank 0 looks at it and creates it.
    /// </summary>
    public string OutputFolder(ParseResult parse)
    {
        string folder = parse.GetValue(Output)!;
        if (!ProcessGroup.Current.IsRoot) return folder;
        if (File.Exists(Path.Combine(folder, "config.json")) && !parse.GetValue(Overwrite))
            throw new InvalidInputException($"{folder}: already holds a model; choose another --output or add --overwrite.");
        Directory.CreateDirectory(folder);
        return folder;
    }
}
