using System.Diagnostics;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Pretrains on prepared data by a <see cref="PretrainingObjective"/> (BERT's masked LM, or ELECTRA): AdamW with weight decay on weight
/// matrices only, linear warmup then linear, cosine or constant decay, gradient clipping, and gradient
/// accumulation whose masked-LM loss is normalised by the masked tokens of all micro-batches of the
/// step together (so accumulating k batches of b is the same step as one batch of k·b). Every random
/// choice derives from (seed, step), and a checkpoint holds weights, optimizer state, step and data
/// position: a resumed run continues the same loss curve. One DisposeScope per step keeps memory flat.
/// </summary>
public sealed class PretrainingTrainer
{
    private readonly PretrainingObjective _objective;
    private readonly nn.Module _model;
    private readonly PretrainingBatches _train;
    private readonly PretrainingBatches? _validation;
    private readonly PretrainingOptions _options;
    private readonly Vocabulary _vocabulary;
    private readonly bool _lowercase;
    private readonly string _output;
    private readonly AdamW _optimizer;
    private readonly List<Parameter> _parameters;
    private readonly LearningRateSchedule _schedule;

    /// <summary>Creates the trainer; <paramref name="output"/> receives checkpoints, metrics.jsonl and the final model.</summary>
    public PretrainingTrainer(BertForPreTraining model, PretrainingBatches train, PretrainingBatches? validation, PretrainingOptions options,
        Vocabulary vocabulary, bool lowercase, string output)
        : this(new MaskedLmObjective(model), train, validation, options, vocabulary, lowercase, output)
    {
    }

    /// <summary>Creates the trainer of <paramref name="objective"/>; <paramref name="output"/> receives checkpoints, metrics.jsonl and the final model.</summary>
    public PretrainingTrainer(PretrainingObjective objective, PretrainingBatches train, PretrainingBatches? validation, PretrainingOptions options,
        Vocabulary vocabulary, bool lowercase, string output)
    {
        _objective = objective;
        var model = _model = objective.Module;
        MixedPrecision.Apply(model, MixedPrecision.Parse(options.Precision));
        _train = train;
        _validation = validation;
        _options = options.Validate();
        _vocabulary = vocabulary;
        _lowercase = lowercase;
        _output = output;
        _parameters = model.parameters().ToList();
        _optimizer = AdamWGroups.Create(model, options.LearningRate, options.AdamEpsilon, options.WeightDecay, options.AdamBeta2);
        _schedule = new LearningRateSchedule(options.LearningRate, options.WarmupSteps, options.MaxSteps, options.Schedule);
    }

    /// <summary>Optimizer steps done.</summary>
    public int Step { get; private set; }

    /// <summary>Training examples consumed (across epochs).</summary>
    public long DataPosition { get; private set; }

    /// <summary>Steps whose update was skipped for a non-finite loss or gradient norm (with <see cref="PretrainingOptions.SkipNonFinite"/>).</summary>
    public int SkippedSteps { get; private set; }

    /// <summary>Training loss of every step done in this process, by step number.</summary>
    public SortedDictionary<int, double> Losses { get; } = new();

    /// <summary>Called at every logged step (and every evaluation).</summary>
    public event Action<TrainingLogRecord>? Logged;

    /// <summary>Where the final model goes.</summary>
    public string ModelDirectory => Path.Combine(_output, "model");

    /// <summary>A test's fault: the loss of each step is multiplied by this (a NaN makes the loss and gradients non-finite).</summary>
    internal Func<int, double>? LossFactorForTests { get; set; }

    /// <summary>A test's hook, called with "evaluation" or "checkpoint" as each starts (a test makes one outlast the time budget).</summary>
    internal Action<string>? PhaseStartedForTests { get; set; }

    /// <summary>The latest checkpoint folder under <paramref name="output"/>, or null.</summary>
    public static string? LatestCheckpoint(string output)
    {
        string pointer = Path.Combine(output, "checkpoints", "latest");
        if (!File.Exists(pointer)) return null;
        string folder = Path.Combine(output, "checkpoints", File.ReadAllText(pointer).Trim());
        return Directory.Exists(folder) ? folder
            : throw new InvalidInputException($"{pointer}: names {folder}, which does not exist; point it at a checkpoint folder that does.");
    }

    /// <summary>
    /// Restores weights, optimizer state, step and data position from <paramref name="checkpoint"/>,
    /// after checking every file against the checkpoint's manifest.
    /// </summary>
    public void Resume(string checkpoint)
    {
        CheckpointManifest.Verify(checkpoint);
        var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json")))
            ?? throw new InvalidInputException($"{checkpoint}: trainer_state.json is empty.");
        _objective.Load(checkpoint);
        _optimizer.load_py(Path.Combine(checkpoint, "optimizer.bin"));
        Step = state.Step;
        DataPosition = state.DataPosition;
        SkippedSteps = state.SkippedSteps;
    }

    /// <summary>
    /// Trains until the step or time budget is spent, evaluating and checkpointing as configured, and
    /// saves the final model. Cancellation (Ctrl+C) or <paramref name="untilStep"/> stops early with a
    /// checkpoint, from which <see cref="Resume"/> continues the same run.
    /// </summary>
    public EvaluationMetrics? Run(CancellationToken cancellation = default, int? untilStep = null)
    {
        var clock = Stopwatch.StartNew();
        long tokensSinceLog = 0;
        var logClock = Stopwatch.StartNew();
        EvaluationMetrics? last = null;
        int evaluatedStep = -1;
        bool BudgetSpent() => Step >= _options.MaxSteps || (_options.MaxTime is { } budget && clock.Elapsed >= budget);
        void Log(double loss, double mlm, double nsp, double learningRate, EvaluationMetrics? validation)
        {
            double seconds = logClock.Elapsed.TotalSeconds;
            double? eta = _options.MaxTime is { } m ? Math.Max(0, (m - clock.Elapsed).TotalSeconds)
                : clock.Elapsed.TotalSeconds / Math.Max(Step, 1) * (_options.MaxSteps - Step);
            // ELECTRA's second part is the discriminator's loss, logged under its own name.
            bool electra = _objective.DetectsReplacedTokens;
            Logged?.Invoke(new TrainingLogRecord(Step, loss, mlm, electra ? 0 : nsp, learningRate, tokensSinceLog / Math.Max(seconds, 1e-9),
                clock.Elapsed.TotalSeconds, eta, validation, SkippedSteps, Math.Round(ProcessMemory.ResidentMegabytes, 1), electra ? nsp : null,
                torch.Tensor.TotalCount));
            tokensSinceLog = 0;
            logClock.Restart();
        }
        EvaluationMetrics? EvaluateNow()
        {
            if (_validation is not { Count: > 0 }) return null;
            PhaseStartedForTests?.Invoke("evaluation");
            evaluatedStep = Step;
            return last = Evaluate(_validation);
        }

        // The run is finished when its step or time budget is spent, however that happens: in a step, an
        // evaluation or a checkpoint save. Only cancellation and untilStep leave it unfinished.
        bool finished = BudgetSpent();
        (double Loss, double MaskedLm, double NextSentence, double LearningRate)? latest = null;
        while (!finished && !cancellation.IsCancellationRequested && (untilStep is null || Step < untilStep))
        {
            double? progress = _options.MaxTime is { } b ? Math.Min(1, clock.Elapsed / b) : null;
            double learningRate = _schedule.At(Step, progress);
            var (loss, mlm, nsp, tokens) = TrainStep(learningRate);
            Losses[Step] = loss;
            Step++;
            tokensSinceLog += tokens;
            latest = (loss, mlm, nsp, learningRate);
            finished = BudgetSpent();
            bool evaluate = _options.EvalEvery > 0 && Step % _options.EvalEvery == 0;
            var validation = evaluate || finished ? EvaluateNow() : null;
            if (Step % _options.LogEvery == 0 || validation is not null || finished) Log(loss, mlm, nsp, learningRate, validation);
            finished = BudgetSpent();
            if (_options.SaveEvery > 0 && Step % _options.SaveEvery == 0 && !finished)
            {
                PhaseStartedForTests?.Invoke("checkpoint");
                SaveCheckpoint();
                finished = BudgetSpent();
            }
        }
        // The budget ran out in a checkpoint save after an evaluation of an earlier step: the figures
        // returned and logged must be the final model's.
        if (finished && latest is { } step && evaluatedStep != Step && EvaluateNow() is { } final)
            Log(step.Loss, step.MaskedLm, step.NextSentence, step.LearningRate, final);
        SaveCheckpoint();
        if (finished) _objective.Save(ModelDirectory, _vocabulary, _lowercase);
        return last;
    }

    private (double Loss, double MaskedLm, double NextSentence, long Tokens) TrainStep(double learningRate)
    {
        using var scope = NewDisposeScope();
        // Dropout draws from a generator seeded by the step, so a resumed run drops the same units.
        random.manual_seed(StableSeed.Of(_options.Seed, Step, 1));
        var batches = new List<PretrainingBatch>();
        for (int k = 0; k < _options.GradientAccumulation; k++)
            batches.Add(_train.TrainingBatch(DataPosition + (long)k * _options.BatchSize, _options.BatchSize));
        try
        {
            var result = TrainOn(batches, learningRate);
            DataPosition += (long)_options.GradientAccumulation * _options.BatchSize;
            return result;
        }
        finally { foreach (var batch in batches) batch.Dispose(); }
    }

    /// <summary>
    /// One optimizer step on <paramref name="batches"/>, the micro-batches of the step: forward and
    /// backward on each, the masked-LM loss normalised by the masked tokens of all of them, clipping,
    /// then AdamW at <paramref name="learningRate"/>. A non-finite loss or gradient norm stops with a
    /// message (or, with <see cref="PretrainingOptions.SkipNonFinite"/>, drops the update). It does not
    /// move <see cref="Step"/> or the data position: the benchmarks call it on a fixed batch.
    /// </summary>
    /// <returns>The step's loss, its masked-LM and NSP parts (ELECTRA: generator and unweighted discriminator losses), and the real (non-padding) tokens it trained on.</returns>
    public (double Loss, double MaskedLm, double NextSentence, long Tokens) TrainOn(IReadOnlyList<PretrainingBatch> batches, double learningRate)
    {
        using var scope = NewDisposeScope();
        // Every step sets the mode itself, whatever the caller left (the step benchmarks call this
        // directly): training, with or without dropout as the config says.
        TrainingMode.Enter(_model, _objective.Config.PretrainingDropout);
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
        _optimizer.zero_grad();
        var counts = new StepCounts(batches.Sum(b => (long)b.MaskedCount), batches.Sum(b => (long)b.Examples), batches.Sum(b => b.Tokens));
        double factor = LossFactorForTests?.Invoke(Step) ?? 1;
        double total = 0, mlmTotal = 0, nspTotal = 0;
        long tokens = 0;
        foreach (var batch in batches)
        {
            var (stepLoss, mlm, nsp) = _objective.Loss(batch, counts, _train.NextSentence);
            var loss = factor == 1 ? stepLoss : stepLoss * factor;
            loss.backward();
            total += loss.item<float>();
            mlmTotal += mlm.item<float>() * factor;
            nspTotal += nsp.item<float>() * factor;
            tokens += batch.Tokens;
        }
        // The norm is checked as well as the loss: a finite loss can still back-propagate an overflow.
        double norm = double.IsFinite(total) ? nn.utils.clip_grad_norm_(_parameters, _options.MaxGradNorm) : double.NaN;
        if (!double.IsFinite(total) || !double.IsFinite(norm))
        {
            if (!_options.SkipNonFinite)
            {
                string? good = LatestCheckpoint(_output);
                throw new InvalidInputException($"{_output}: the {(double.IsFinite(total) ? "gradient norm" : "loss")} became {(double.IsFinite(total) ? norm : total)} at step {Step + 1}; " +
                    (good is null ? "no checkpoint was written yet" : $"the last good checkpoint is {good}") +
                    ". Lower --lr and --resume, or pass --skip-nonfinite to skip such steps.");
            }
            // The batch is consumed and the update dropped, as Megatron and fairseq do on overflow.
            SkippedSteps++;
        }
        else _optimizer.step();
        return (total, mlmTotal, nspTotal, tokens);
    }

    /// <summary>
    /// Times <paramref name="timedSteps"/> training steps on the run's first batches, after
    /// <paramref name="warmupSteps"/> untimed ones: what a step costs on this machine, for
    /// <c>pretrain --dry-run</c>. The steps change the model and optimizer (nothing is saved); the step
    /// counter and data position are put back.
    /// </summary>
    public ThroughputMeasurement MeasureThroughput(int warmupSteps = 2, int timedSteps = 5)
    {
        int step = Step;
        long position = DataPosition;
        try
        {
            for (int i = 0; i < warmupSteps; i++) { TrainStep(_options.LearningRate); Step++; }
            var clock = Stopwatch.StartNew();
            long tokens = 0;
            for (int i = 0; i < timedSteps; i++) { tokens += TrainStep(_options.LearningRate).Tokens; Step++; }
            double seconds = clock.Elapsed.TotalSeconds;
            return new ThroughputMeasurement(seconds / timedSteps, tokens / seconds, (double)tokens / timedSteps, ProcessMemory.PeakResidentMegabytes);
        }
        finally
        {
            Step = step;
            DataPosition = position;
        }
    }

    /// <summary>Masked-LM loss, perplexity, masked-LM accuracy and NSP accuracy of <paramref name="data"/> (in stored order).</summary>
    public EvaluationMetrics Evaluate(PretrainingBatches data)
    {
        _model.eval();
        try { return _objective.Evaluate(data, _options.BatchSize, _options.EvalBatches); }
        finally { TrainingMode.Enter(_model, _objective.Config.PretrainingDropout); }
    }

    private void SaveCheckpoint()
    {
        string root = Path.Combine(_output, "checkpoints");
        string name = $"step-{Step:D7}";
        string final = Path.Combine(root, name), temporary = Path.Combine(root, $".{name}.tmp");
        // Temporary folders are saves a crash cut short: never complete, never pointed at, only taking space.
        if (Directory.Exists(root))
            foreach (string unfinished in Directory.GetDirectories(root, ".step-*.tmp")) Directory.Delete(unfinished, recursive: true);
        try
        {
            _objective.Save(temporary, _vocabulary, _lowercase);
            _optimizer.save_py(Path.Combine(temporary, "optimizer.bin"));
            AtomicFile.WriteAllText(Path.Combine(temporary, "trainer_state.json"),
                JsonSerializer.Serialize(new CheckpointState(Step, DataPosition, _options.Seed, SkippedSteps), new JsonSerializerOptions { WriteIndented = true }));
            CheckpointManifest.Write(temporary);
        }
        catch (Exception e) when (AtomicFile.WriteFailure(e) is not null)
        {
            // A full disk: free what this save took, and say which checkpoint a resume would use.
            try { Directory.Delete(temporary, recursive: true); } catch (IOException) { /* the folder's name keeps it out of any resume */ }
            string? good = File.Exists(Path.Combine(root, "latest")) ? LatestCheckpoint(_output) : null;
            throw new IOException($"{final}: the checkpoint of step {Step} could not be written; " +
                (good is null ? "no earlier checkpoint exists" : $"the last complete checkpoint, {good}, is untouched") + $". Cause: {AtomicFile.WriteFailure(e)}", e);
        }
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temporary, final);
        AtomicFile.SyncFolder(root);
        // The pointer moves only once the checkpoint is complete: a crash never leaves a half-written latest.
        AtomicFile.WriteAllText(Path.Combine(root, "latest"), name + "\n");
        if (_options.KeepCheckpoints > 0)
            foreach (string old in Directory.GetDirectories(root, "step-*").Order(StringComparer.Ordinal).SkipLast(_options.KeepCheckpoints))
                if (Path.GetFileName(old) != name) Directory.Delete(old, recursive: true);
    }

    /// <summary>What trainer_state.json holds.</summary>
    public sealed record CheckpointState(int Step, long DataPosition, int Seed, int SkippedSteps = 0);
}
