using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Distributed;
using SharpLM.Model;
using SharpLM.Text;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm pretrain</c>: masked-LM pretraining (with NSP on sentence-pair data) from prepared data or a raw corpus, by a recipe. Given
/// no data it trains a vocabulary and a model (tiny unless told) on the English part of the embedded
/// default corpus, for three minutes unless told, into runs/default/. Started by mpirun, it trains data-parallel
/// over the ranks (docs/distributed.md): rank 0 prepares any data and writes everything, the others only train.
/// </summary>
public static class PretrainCommand
{
    private const double DefaultCorpusValidationFraction = 0.1;

    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var d = new PretrainingOptions();
        var config = new Option<string?>("--config") { Description = "A config.json to train (sizes and options)." };
        var recipe = new Option<string>("--recipe") { Description = $"Pretraining recipe: {string.Join(", ", PretrainingRecipe.All.Select(r => r.Name))} (options given here win over it).", DefaultValueFactory = _ => PretrainingRecipe.Default.Name };
        var preset = new Option<string>("--preset") { Description = "tiny, mini, small, medium or base (when no --config).", DefaultValueFactory = _ => "tiny" };
        var data = new Option<string?>("--data") { Description = "A folder made by 'sharplm data prepare' (with neither --data nor --corpus: the embedded English corpus)." };
        var corpus = new Option<string[]>("--corpus") { Description = $"Raw corpus files or folders, prepared into OUTPUT/data first: {TextFieldOption.Formats}.", AllowMultipleArgumentsPerToken = true };
        var textField = TextFieldOption.Create();
        var vocab = new Option<string?>("--vocab") { Description = "vocab.txt for --corpus (default: train one on the corpus)." };
        var output = new Option<string>("--output") { Description = "Run folder: checkpoints/, model/, metrics.jsonl.", DefaultValueFactory = _ => Path.Combine("runs", "default") };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => d.BatchSize, Description = "Examples per micro-batch." };
        var gradAccum = new Option<int>("--grad-accum") { DefaultValueFactory = _ => d.GradientAccumulation, Description = "Micro-batches per step." };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (default: the recipe's)." };
        var weightDecay = new Option<double>("--weight-decay") { DefaultValueFactory = _ => d.WeightDecay, Description = "AdamW weight decay (weights only)." };
        var warmup = new Option<int>("--warmup-steps") { Description = "Linear warmup steps (default: the recipe's)." };
        var schedule = new Option<string>("--schedule") { DefaultValueFactory = _ => d.Schedule, Description = "linear, cosine or constant." };
        var maxSteps = new Option<int>("--max-steps") { DefaultValueFactory = _ => 100_000, Description = "Optimizer steps (a cap when --max-time is given)." };
        var maxTime = new Option<string?>("--max-time") { Description = "Time budget such as 30m, 2h or 90s; the schedule follows elapsed time." };
        var evalEvery = new Option<int>("--eval-every") { DefaultValueFactory = _ => 200, Description = "Steps between evaluations." };
        var saveEvery = new Option<int>("--save-every") { DefaultValueFactory = _ => 500, Description = "Steps between checkpoints." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => d.Seed, Description = "Seed of everything random." };
        var dynamic = new Option<bool>("--dynamic-masking") { Description = "Mask each example afresh every time (RoBERTa)." };
        var resume = new Option<bool>("--resume") { Description = "Continue from the latest checkpoint in --output." };
        var logEvery = new Option<int>("--log-every") { DefaultValueFactory = _ => d.LogEvery, Description = "Steps between progress lines and metrics.jsonl records." };
        var keep = new Option<int>("--keep-checkpoints") { DefaultValueFactory = _ => d.KeepCheckpoints, Description = "Checkpoints kept on disk, newest first (0: all)." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Build the model, time a few steps on the data, print the estimated cost of the run, and stop (nothing is trained or saved)." };
        var threads = TrainingThreadsOption.Create();
        var tensorboard = TensorBoardLog.Option();
        var noGrouping = new Option<bool>("--no-group-by-length") { Description = "Batch examples in plain shuffled order instead of grouping similar lengths (less padding)." };
        var beta2 = new Option<double>("--adam-beta2") { Description = "AdamW's second-moment decay (default: the recipe's)." };
        var epsilon = new Option<double>("--adam-epsilon") { Description = "AdamW's epsilon (default: the recipe's)." };
        var clip = new Option<double>("--clip") { Description = "Gradient clipping norm (default: the recipe's)." };
        var objectiveName = new Option<string>("--objective") { Description = "mlm: masked LM (with NSP on sentence-pair data); electra: replaced-token detection on every token, with a masked-LM generator 1/4 as wide; causal: next-token prediction with a Llama-style decoder and a byte-level BPE.", DefaultValueFactory = _ => "mlm" };
        var tokenizerPath = new Option<string?>("--tokenizer") { Description = "--objective causal: a byte-level BPE tokenizer.json for --corpus (default: train one on the corpus)." };
        var blockSize = new Option<int>("--block-size") { Description = "--objective causal: tokens per training window (the context the model learns).", DefaultValueFactory = _ => 128 };
        var precision = new Option<string>("--precision") { Description = "auto, fp32 or bf16 (matrix products and attention in bfloat16; weights, optimizer state and losses in float32). Default: the recipe's, auto: bf16 where the CPU has AVX-512 BF16 or AMX." };
        var positions = new Option<string>("--position-embedding-type") { Description = $"How the model knows word order: {string.Join(", ", BertConfig.PositionEmbeddingTypes)} (default: the recipe's, or the --config's)." };
        var init = new Option<string?>("--init") { Description = "Start from this model folder (SharpLM's or a Hugging Face BERT, pretrained or fine-tuned) instead of random weights, with its vocabulary and config: domain-adaptive or continual pretraining. A missing masked-LM head starts new; the learning rate defaults to 1e-4." };
        var skipNonFinite = new Option<bool>("--skip-nonfinite") { Description = "Skip the update of a step whose loss or gradient is NaN or infinite (counted in metrics) instead of stopping." };
        var command = new Command("pretrain", "Pretrain a BERT (masked LM, and next-sentence prediction on sentence-pair data) or an ELECTRA; no arguments: a tiny model on the embedded English corpus for 3 minutes.")
        {
            config, init, recipe, objectiveName, tokenizerPath, blockSize, precision, preset, data, corpus, textField, vocab, output, batchSize, gradAccum, lr, weightDecay, warmup, schedule, maxSteps, maxTime, evalEvery, saveEvery, seed, dynamic, resume, logEvery, keep, skipNonFinite, dryRun, threads, noGrouping, beta2, epsilon, clip, positions, tensorboard,
        };
        command.SetAction((parse, cancellation) =>
        {
            string folder = parse.GetValue(output)!;
            var group = ProcessGroup.Current;
            string[] corpusPaths = parse.GetValue(corpus) ?? [];
            string? dataFolder = parse.GetValue(data);
            string? budget = parse.GetValue(maxTime);
            // No data named: the embedded English corpus, for three minutes unless a budget or step count is typed.
            bool defaultCorpus = dataFolder is null && corpusPaths.Length == 0;
            if (defaultCorpus)
            {
                if (group.IsRoot) corpusPaths = [DefaultCorpus.WriteEnglish(Path.Combine(folder, "corpus"))];
                if (budget is null && parse.GetResult(maxSteps) is not { Implicit: false }) budget = "3m";
            }
            var chosen = PretrainingRecipe.Named(parse.GetValue(recipe)!);
            string objectiveKind = parse.GetValue(objectiveName)!;
            if (objectiveKind is not ("mlm" or "electra" or "causal")) throw new InvalidInputException($"--objective {objectiveKind}: use mlm, electra or causal.");
            // A causal run starts from its own optimisation settings; the BERT recipes do not apply to it.
            var training = objectiveKind == "causal" ? CausalLmObjective.Training : chosen.Training;
            // The recipe's value unless the option was typed.
            T Pick<T>(Option<T> option, T recipeValue) => parse.GetResult(option) is { Implicit: false } ? parse.GetValue(option)! : recipeValue;
            string? initFolder = parse.GetValue(init);
            if (initFolder is not null)
            {
                // The model brings its own sizes, options and vocabulary: a flag that sets them would be ignored.
                foreach (var (option, typed) in new (string, bool)[] { ("--config", parse.GetValue(config) is not null), ("--vocab", parse.GetValue(vocab) is not null),
                    ("--preset", parse.GetResult(preset) is { Implicit: false }), ("--position-embedding-type", parse.GetValue(positions) is not null),
                    ("--objective electra", parse.GetValue(objectiveName) == "electra") })
                    if (typed) throw new InvalidInputException($"--init {initFolder}: the model's config and vocabulary are used, so {option} cannot be given with it.");
            }
            var initConfig = initFolder is null ? null : ContinuedPretraining.Config(initFolder);
            var initTokenizer = initFolder is null ? null : HuggingFaceCheckpoint.LoadTokenizer(initFolder);
            var options = training with
            {
                BatchSize = parse.GetValue(batchSize), GradientAccumulation = parse.GetValue(gradAccum),
                LearningRate = Pick(lr, initFolder is null ? training.LearningRate : ContinuedPretraining.DefaultLearningRate),
                WeightDecay = Pick(weightDecay, training.WeightDecay), WarmupSteps = Pick(warmup, training.WarmupSteps), Schedule = Pick(schedule, training.Schedule)!,
                MaxSteps = parse.GetValue(maxSteps), MaxTime = budget is null ? null : ParseDuration(budget), EvalEvery = parse.GetValue(evalEvery),
                SaveEvery = parse.GetValue(saveEvery), LogEvery = parse.GetValue(logEvery), Seed = parse.GetValue(seed), DynamicMasking = parse.GetValue(dynamic),
                EvalBatches = 50, SkipNonFinite = parse.GetValue(skipNonFinite), KeepCheckpoints = parse.GetValue(keep), GroupByLength = !parse.GetValue(noGrouping),
                AdamBeta2 = Pick(beta2, training.AdamBeta2), AdamEpsilon = Pick(epsilon, training.AdamEpsilon), MaxGradNorm = Pick(clip, training.MaxGradNorm),
                Precision = Pick(precision, training.Precision),
            };
            options.Validate();
            if (objectiveKind == "causal")
            {
                foreach (var (option, typed) in new (string, bool)[] { ("--init", initFolder is not null), ("--vocab", parse.GetValue(vocab) is not null),
                    ("--recipe", parse.GetResult(recipe) is { Implicit: false }), ("--position-embedding-type", parse.GetValue(positions) is not null),
                    ("--dynamic-masking", parse.GetValue(dynamic)) })
                    if (typed) throw new InvalidInputException($"--objective causal: {option} is for masked-LM pretraining; a causal model has its own tokenizer (--tokenizer) and rotary positions.");
                var causal = new CausalPretraining(folder, group, corpusPaths, defaultCorpus, dataFolder, parse.GetValue(tokenizerPath), parse.GetValue(config),
                    parse.GetValue(preset)!, parse.GetValue(blockSize), parse.GetValue(textField)!, context);
                int causalThreads = TrainingThreadsOption.Apply(parse, threads);
                return Task.FromResult(causal.Run(options, causalThreads, parse.GetValue(resume), parse.GetValue(tensorboard), parse.GetValue(dryRun), cancellation));
            }
            if (parse.GetValue(tokenizerPath) is not null || parse.GetResult(blockSize) is { Implicit: false })
                throw new InvalidInputException("--tokenizer and --block-size are for --objective causal.");
            string? positionType = parse.GetValue(positions);
            if (positionType is not null && !BertConfig.PositionEmbeddingTypes.Contains(positionType))
                throw new InvalidInputException($"--position-embedding-type {positionType}: use {string.Join(", ", BertConfig.PositionEmbeddingTypes)}.");

            if (group.IsRoot) Directory.CreateDirectory(folder);
            if (dataFolder is null)
            {
                dataFolder = Path.Combine(folder, "data");
                if (group.IsRoot && CausalDataManifest.IsCausalFolder(dataFolder))
                    throw new InvalidInputException($"{dataFolder}: holds causal-LM data from an earlier run in {folder}; give masked-LM pretraining another --output.");
                // Rank 0 prepares; the other ranks read the folder once it is written (a folder every machine sees).
                if (group.IsRoot && !File.Exists(Path.Combine(dataFolder, PretrainingDataManifest.FileName)))
                {
                    var tokenizer = initTokenizer ?? new BertTokenizer(parse.GetValue(vocab) is string v ? Vocabulary.Load(v)
                        : VocabCommand.Train(corpusPaths, defaultCorpus ? 8000 : 30522, 2, cased: false, context, parse.GetValue(textField)!));
                    if (Directory.Exists(dataFolder)) Directory.Delete(dataFolder, recursive: true); // an unfinished preparation
                    var dataOptions = chosen.Data with { Seed = options.Seed };
                    // The embedded English corpus is 62 speeches: 64-token segments give a tiny model 1.7x the
                    // steps of 128 in three minutes (it leaves the frequency plateau sooner), and a tenth of the
                    // speeches makes a validation split that 1% might leave empty.
                    if (defaultCorpus) dataOptions = dataOptions with { MaxSeqLength = 64, ValidationFraction = DefaultCorpusValidationFraction };
                    var writer = new PretrainingDataWriter(tokenizer, dataOptions);
                    var manifest = writer.Write(corpusPaths, dataFolder, parse.GetValue(textField)!);
                    context.Error.WriteLine($"prepared {manifest.TrainExamples:N0} training and {manifest.ValidationExamples:N0} validation examples in {dataFolder}");
                }
                group.Barrier();
            }
            var dataManifest = PretrainingDataManifest.Load(dataFolder);
            var dataVocabulary = Vocabulary.Load(Path.Combine(dataFolder, "vocab.txt"));
            if (initTokenizer is not null && (initTokenizer.Vocabulary.Hash() != dataVocabulary.Hash() || initTokenizer.Lowercase != dataManifest.Lowercase))
                throw new InvalidInputException($"{dataFolder}: prepared with another vocabulary or casing than {initFolder}'s; prepare it with --vocab {Path.Combine(initFolder!, "vocab.txt")}" +
                    (initTokenizer.Lowercase ? "" : " and --cased") + ", or give --corpus.");
            if (dataManifest.ValidationExamples == 0)
                context.Error.WriteLine($"warning: {dataFolder} has no validation examples, so no validation figures will be reported; prepare it with a larger --validation-fraction.");
            // A preset trains with the recipe's model options; a --config is taken as written.
            var modelConfig = initConfig is not null ? initConfig : parse.GetValue(config) is string c ? BertConfig.Load(c)
                : chosen.Model(BertConfig.Preset(parse.GetValue(preset)!, dataVocabulary.Count));
            if (positionType is not null) modelConfig = modelConfig with { PositionEmbeddingType = positionType };
            if (objectiveKind == "electra" && !modelConfig.IsElectra)
                modelConfig = modelConfig with { ModelType = "electra", EmbeddingWidth = modelConfig.EmbeddingSize, Architecture = "ElectraForPreTraining" };
            if (objectiveKind == "mlm" && modelConfig.IsElectra)
                throw new InvalidInputException($"{parse.GetValue(config)}: model_type electra trains with --objective electra.");
            if (modelConfig.VocabSize != dataVocabulary.Count)
                throw new InvalidInputException($"{parse.GetValue(config)}: vocab_size {modelConfig.VocabSize} differs from the data's vocabulary ({dataVocabulary.Count} tokens).");
            if (modelConfig.MaxPositionEmbeddings < dataManifest.Options.MaxSeqLength)
                throw new InvalidInputException($"max_position_embeddings {modelConfig.MaxPositionEmbeddings} is shorter than the data's examples ({dataManifest.Options.MaxSeqLength}).");

            int threadCount = TrainingThreadsOption.Apply(parse, threads);
            TorchSharp.torch.random.manual_seed(options.Seed);
            PretrainingObjective objective;
            if (objectiveKind == "electra") objective = new ElectraObjective(new ElectraPretraining(modelConfig, ElectraPretraining.GeneratorConfig(modelConfig)));
            else
            {
                var bert = new BertForPreTraining(modelConfig);
                objective = new MaskedLmObjective(bert);
                if (initFolder is not null)
                {
                    var fresh = ContinuedPretraining.Load(bert, initFolder);
                    context.Error.WriteLine($"starting from {initFolder}" + (fresh.Count == 0 ? "" : $"; new: {string.Join(", ", fresh)}"));
                }
            }
            using var model = objective.Module;
            using var train = new PretrainingBatches(dataFolder, "train", dataVocabulary, options.Seed, options.DynamicMasking,
                options.GroupByLength ? options.BatchSize : 0);
            using var validation = new PretrainingBatches(dataFolder, "validation", dataVocabulary, options.Seed);
            var trainer = new PretrainingTrainer(objective, train, validation, options, dataVocabulary, dataManifest.Lowercase, folder, group);
            if (parse.GetValue(dryRun))
            {
                context.Output.WriteLine(DryRun(trainer, model, modelConfig.NumHiddenLayers, modelConfig.HiddenSize, options, train.Count, threadCount, context));
                return Task.FromResult(0);
            }
            string description = $"{(objective is ElectraObjective ? "an ELECTRA discriminator " : "")}{modelConfig.NumHiddenLayers}x{modelConfig.HiddenSize} ({model.parameters().Sum(p => p.numel()):N0} parameters{(objective is ElectraObjective e ? $" with the generator's {e.Model.Generator.Config.HiddenSize}-wide layers" : "")}) on {train.Count:N0} examples";
            return Task.FromResult(Train(trainer, options, folder, group, threadCount, description, parse.GetValue(resume), parse.GetValue(tensorboard), context, cancellation));
        });
        return command;
    }

    /// <summary>
    /// Runs a trainer the verb has built, for every objective: resume from the latest checkpoint when asked, progress and
    /// metrics.jsonl (and TensorBoard), the loss plot, and the closing JSON line. Returns the exit code.
    /// </summary>
    internal static int Train(PretrainingTrainer trainer, PretrainingOptions options, string folder, ProcessGroup group, int threadCount, string description,
        bool resume, string? tensorboard, CommandContext context, CancellationToken cancellation, bool nextToken = false)
    {
        string metricsPath = Path.Combine(folder, "metrics.jsonl");
        // Only rank 0 reads the checkpoint; it sends the others what they need.
        string? checkpoint = resume && group.IsRoot ? PretrainingTrainer.LatestCheckpoint(folder) : null;
        if (resume && group.Any(checkpoint is not null))
        {
            trainer.Resume(checkpoint);
            if (group.IsRoot) TrainingLog.KeepUpTo(metricsPath, trainer.Step);
            context.Error.WriteLine($"resumed from {checkpoint} at step {trainer.Step}");
            if (trainer.ResumedExamplesPerStep is long before && before != trainer.ExamplesPerStep)
                context.Error.WriteLine($"warning: {checkpoint} was trained with {before} examples per step and this run takes {trainer.ExamplesPerStep} " +
                    "(ranks x --grad-accum x --batch-size): it continues from the same data, but it is not the same run; keep the product to continue it exactly.");
        }
        else if (group.IsRoot && File.Exists(metricsPath)) File.Delete(metricsPath);
        context.Error.WriteLine($"pretraining {description}, batch {options.BatchSize}x{options.GradientAccumulation}" +
            (group.IsDistributed ? $"x{group.Size} ranks, {threadCount} threads per rank" : "") + ", " +
            (options.MaxTime is { } t ? $"for {t}" : $"{options.MaxSteps:N0} steps") +
            (SharpLM.Model.MixedPrecision.Parse(options.Precision) is null ? ", fp32" : ", bf16 mixed precision") + $", into {folder}");
        if (!group.IsRoot)
        {
            trainer.Run(cancellation);
            return 0;
        }
        EvaluationMetrics? metrics;
        using (var log = new TrainingLog(metricsPath, context.Error) { NextToken = nextToken })
        {
            trainer.Logged += log.Write;
            if (tensorboard is { } events)
            {
                var board = new TensorBoardLog(events);
                trainer.Logged += board.Write;
            }
            metrics = TerminalProgress.IsAvailable(context)
                ? TerminalProgress.Run(trainer, options, cancellation)
                : trainer.Run(cancellation);
        }
        LossPlot.Write(Path.Combine(folder, "loss.png"), ("", metricsPath));
        if (cancellation.IsCancellationRequested) context.Error.WriteLine($"stopped at step {trainer.Step}; continue with --resume");
        else context.Output.WriteLine(JsonSerializer.Serialize(new { model = trainer.ModelDirectory, step = trainer.Step, validation = metrics },
            new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        return 0;
    }

    // Times a few steps and turns them into the cost of the whole run; evaluations and checkpoints come on top.
    internal static string DryRun(PretrainingTrainer trainer, TorchSharp.torch.nn.Module model, int layers, int hidden, PretrainingOptions options, long examples, int threads, CommandContext context)
    {
        var measured = trainer.MeasureThroughput();
        double steps = options.MaxTime is { } t ? Math.Min(options.MaxSteps, t.TotalSeconds / measured.SecondsPerStep) : options.MaxSteps;
        double seconds = options.MaxTime is { } budget ? Math.Min(budget.TotalSeconds, options.MaxSteps * measured.SecondsPerStep) : steps * measured.SecondsPerStep;
        double epochs = steps * options.BatchSize * options.GradientAccumulation / Math.Max(1, examples);
        long parameters = model.parameters().Sum(p => p.numel());
        context.Error.WriteLine($"dry run: {layers}x{hidden} ({parameters:N0} parameters), batch {options.BatchSize}x{options.GradientAccumulation}, {threads} threads: " +
            $"{measured.SecondsPerStep:F2} s/step, {measured.TokensPerSecond:F0} tokens/s, peak RSS {measured.PeakRssMegabytes:F0} MiB; " +
            $"{steps:N0} steps take about {TimeSpan.FromSeconds(Math.Round(seconds))} ({epochs:F2} epochs of the data, {steps * measured.TokensPerStep / 1e6:F1}M tokens), plus evaluations and checkpoints.");
        return JsonSerializer.Serialize(new
        {
            parameters, threads, seconds_per_step = measured.SecondsPerStep, tokens_per_second = measured.TokensPerSecond, tokens_per_step = measured.TokensPerStep,
            peak_rss_megabytes = measured.PeakRssMegabytes, steps = Math.Floor(steps), estimated_seconds = seconds, epochs,
        });
    }

    /// <summary>Parses 90s, 30m, 2h, 1h30m or a TimeSpan (00:30:00).</summary>
    public static TimeSpan ParseDuration(string text)
    {
        var match = System.Text.RegularExpressions.Regex.Match(text.Trim(), @"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$");
        if (match.Success && match.Value.Length > 0)
        {
            double Part(int g) => match.Groups[g].Success ? double.Parse(match.Groups[g].Value, CultureInfo.InvariantCulture) : 0;
            return TimeSpan.FromHours(Part(1)) + TimeSpan.FromMinutes(Part(2)) + TimeSpan.FromSeconds(Part(3));
        }
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span)) return span;
        throw new InvalidInputException($"--max-time {text}: use a duration such as 90s, 30m, 2h or 1h30m.");
    }
}
