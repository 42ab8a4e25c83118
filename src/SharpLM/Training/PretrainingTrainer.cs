using System.Diagnostics;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Distributed;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Pretrains on prepared data by a <see cref="PretrainingObjective"/> (BERT's masked LM, ELECTRA, or a causal LM's next token): AdamW with weight decay on weight
/// matrices only, linear warmup then linear, cosine or constant decay, gradient clipping, and gradient
/// accumulation whose masked-LM loss is normalised by the masked tokens of all micro-batches of the
/// step together (so accumulating k batches of b is the same step as one batch of k·b). Every random
/// choice derives from (seed, step), and a checkpoint holds weights, optimizer state, step and data
/// position: a resumed run continues the same loss curve. One DisposeScope per step keeps memory flat.
/// Over a <see cref="ProcessGroup"/> of N ranks (mpirun), each rank trains its share of the step's micro-batches
/// and the gradients are summed (<see cref="DataParallel"/>): N ranks with accumulation A train exactly the
/// micro-batches, dropout and masks of one rank with accumulation N·A. Rank 0 alone evaluates, logs and writes.
/// </summary>
public sealed class PretrainingTrainer
{
    private readonly PretrainingObjective _objective;
    private readonly nn.Module _model;
    private readonly IPretrainingData _train;
    private readonly IPretrainingData? _validation;
    private readonly PretrainingOptions _options;
    private readonly Vocabulary? _vocabulary;
    private readonly bool _lowercase;
    private readonly string _output;
    private readonly AdamW _optimizer;
    private readonly List<Parameter> _parameters;
    private readonly LearningRateSchedule _schedule;
    private readonly ProcessGroup _group;
    private readonly DataParallel _parallel;

    /// <summary>Creates the trainer; <paramref name="output"/> receives checkpoints, metrics.jsonl and the final model.</summary>
    public PretrainingTrainer(BertForPreTraining model, PretrainingBatches train, PretrainingBatches? validation, PretrainingOptions options,
        Vocabulary vocabulary, bool lowercase, string output)
        : this(new MaskedLmObjective(model), train, validation, options, vocabulary, lowercase, output)
    {
    }

    /// <summary>
    /// Creates the trainer of <paramref name="objective"/>; <paramref name="output"/> receives checkpoints, metrics.jsonl and
    /// the final model, saved with <paramref name="vocabulary"/> (null for a causal objective, which saves its own tokenizer).
    /// With a <paramref name="group"/> of several ranks, every rank takes rank 0's weights here.
    /// </summary>
    public PretrainingTrainer(PretrainingObjective objective, IPretrainingData train, IPretrainingData? validation, PretrainingOptions options,
        Vocabulary? vocabulary, bool lowercase, string output, ProcessGroup? group = null)
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
        _group = group ?? ProcessGroup.Single;
        _parallel = new DataParallel(_group, _parameters);
        _parallel.BroadcastParameters();
    }

    /// <summary>The gradient summing over the ranks (its time is the benchmark's communication share).</summary>
    public DataParallel Parallel => _parallel;

    /// <summary>Optimizer steps done.</summary>
    public int Step { get; private set; }

    /// <summary>Examples per optimizer step over all ranks: ranks x <see cref="PretrainingOptions.GradientAccumulation"/> x <see cref="PretrainingOptions.BatchSize"/>.</summary>
    public long ExamplesPerStep => (long)_group.Size * _options.GradientAccumulation * _options.BatchSize;

    /// <summary>
    /// After <see cref="Resume"/> on rank 0: the global batch of the run that wrote the checkpoint (null if it did not
    /// say). Resuming with another one continues from the same data position, but not the same run.
    /// </summary>
    public long? ResumedExamplesPerStep { get; private set; }

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
    /// after checking every file against the checkpoint's manifest. Over several ranks, rank 0 reads the
    /// checkpoint (the others pass anything) and sends every rank its weights, optimizer state and position,
    /// so the other machines need no copy of it; the number of ranks may differ from the run that wrote it.
    /// </summary>
    public void Resume(string? checkpoint)
    {
        if (_group.IsRoot)
        {
            ArgumentNullException.ThrowIfNull(checkpoint);
            CheckpointManifest.Verify(checkpoint);
            var state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(Path.Combine(checkpoint, "trainer_state.json")))
                ?? throw new InvalidInputException($"{checkpoint}: trainer_state.json is empty.");
            _objective.Load(checkpoint);
            _optimizer.load_py(Path.Combine(checkpoint, "optimizer.bin"));
            Step = state.Step;
            DataPosition = state.DataPosition;
            SkippedSteps = state.SkippedSteps;
            ResumedExamplesPerStep = state.ExamplesPerStep > 0 ? state.ExamplesPerStep : null;
        }
        if (!_group.IsDistributed) return;
        _parallel.BroadcastParameters();
        byte[]? optimizerState = null;
        if (_group.IsRoot)
        {
            using var written = new MemoryStream();
            _optimizer.save_py(written, leaveOpen: true);
            optimizerState = written.ToArray();
        }
        optimizerState = _group.Broadcast(optimizerState);
        if (!_group.IsRoot) _optimizer.load_py(new MemoryStream(optimizerState));
        Step = (int)_group.FromRoot(Step);
        DataPosition = (long)_group.FromRoot(DataPosition);
        SkippedSteps = (int)_group.FromRoot(SkippedSteps);
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
        // Rank 0's clock rules every decision that depends on time, so that the ranks stop and schedule together.
        bool BudgetSpent() => Step >= _options.MaxSteps || (_options.MaxTime is { } budget && _group.Any(_group.IsRoot && clock.Elapsed >= budget));
        void Log(double loss, double mlm, double nsp, double learningRate, EvaluationMetrics? validation)
        {
            if (!_group.IsRoot) return;
            double seconds = logClock.Elapsed.TotalSeconds;
            double? eta = _options.MaxTime is { } m ? Math.Max(0, (m - clock.Elapsed).TotalSeconds)
                : clock.Elapsed.TotalSeconds / Math.Max(Step, 1) * (_options.MaxSteps - Step);
            // ELECTRA's second part is the discriminator's loss, logged under its own name.
            bool electra = _objective.DetectsReplacedTokens;
            Logged?.Invoke(new TrainingLogRecord(Step, loss, mlm, electra ? 0 : nsp, learningRate, tokensSinceLog / Math.Max(seconds, 1e-9),
                clock.Elapsed.TotalSeconds, eta, validation, SkippedSteps, Math.Round(ProcessMemory.ResidentMegabytes, 1), electra ? nsp : null,
                torch.Tensor.TotalCount, _group.IsDistributed ? Math.Round(_parallel.CommunicationTime.TotalSeconds, 3) : null));
            tokensSinceLog = 0;
            logClock.Restart();
        }
        EvaluationMetrics? EvaluateNow()
        {
            if (_validation is not { Count: > 0 } || !_group.IsRoot) return null;
            PhaseStartedForTests?.Invoke("evaluation");
            evaluatedStep = Step;
            return last = Evaluate(_validation);
        }

        // The run is finished when its step or time budget is spent, however that happens: in a step, an
        // evaluation or a checkpoint save. Only cancellation and untilStep leave it unfinished.
        bool finished = BudgetSpent();
        (double Loss, double MaskedLm, double NextSentence, double LearningRate)? latest = null;
        while (!finished && (untilStep is null || Step < untilStep) && !_group.Any(cancellation.IsCancellationRequested))
        {
            double? progress = _options.MaxTime is { } b ? _group.FromRoot(Math.Min(1, clock.Elapsed / b)) : null;
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
                if (_group.IsRoot) SaveCheckpoint();
                finished = BudgetSpent();
            }
        }
        // The budget ran out in a checkpoint save after an evaluation of an earlier step: the figures
        // returned and logged must be the final model's.
        if (finished && latest is { } step && evaluatedStep != Step && EvaluateNow() is { } final)
            Log(step.Loss, step.MaskedLm, step.NextSentence, step.LearningRate, final);
        if (!_group.IsRoot) return null;
        SaveCheckpoint();
        if (finished) _objective.Save(ModelDirectory, _vocabulary, _lowercase);
        return last;
    }

    private (double Loss, double MaskedLm, double NextSentence, long Tokens) TrainStep(double learningRate)
    {
        using var scope = NewDisposeScope();
        // The step's micro-batches are numbered over all ranks; rank r trains numbers r·A to r·A + A - 1, which
        // are the examples that one process accumulating N·A micro-batches would train at those numbers.
        int perRank = _options.GradientAccumulation;
        long first = (long)_group.Rank * perRank;
        var batches = new List<PretrainingBatch>();
        for (int j = 0; j < perRank; j++)
            batches.Add(_train.TrainingBatch(DataPosition + (first + j) * _options.BatchSize, _options.BatchSize));
        try
        {
            var result = TrainOn(batches, learningRate, first);
            DataPosition += ExamplesPerStep;
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
    public (double Loss, double MaskedLm, double NextSentence, long Tokens) TrainOn(IReadOnlyList<PretrainingBatch> batches, double learningRate) =>
        TrainOn(batches, learningRate, firstMicroBatch: null);

    // In a run, batches are this rank's micro-batches of the step, numbered from firstMicroBatch, which seeds dropout;
    // counts, gradients and the logged losses are summed over the ranks. A caller outside a run (null) leaves the
    // generator as it is.
    private (double Loss, double MaskedLm, double NextSentence, long Tokens) TrainOn(IReadOnlyList<PretrainingBatch> batches, double learningRate, long? firstMicroBatch)
    {
        using var scope = NewDisposeScope();
        // Every step sets the mode itself, whatever the caller left (the step benchmarks call this
        // directly): training, with or without dropout as the config says.
        TrainingMode.Enter(_model, _objective.PretrainingDropout);
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
        _optimizer.zero_grad();
        double[] local = [batches.Sum(b => (double)b.MaskedCount), batches.Sum(b => (double)b.Examples), batches.Sum(b => (double)b.Tokens)];
        _group.Sum(local);
        var counts = new StepCounts((long)local[0], (long)local[1], (long)local[2]);
        double factor = LossFactorForTests?.Invoke(Step) ?? 1;
        double total = 0, mlmTotal = 0, nspTotal = 0;
        long tokens = 0;
        for (int j = 0; j < batches.Count; j++)
        {
            var batch = batches[j];
            // Dropout (and ELECTRA's sampling) draws from a generator seeded by the step and the micro-batch's number
            // in it, so that a resumed run, and any split of the micro-batches over ranks, draws the same numbers.
            if (firstMicroBatch is long start)
                random.manual_seed(StableSeed.ForMicroBatch(_options.Seed, Step, start + j));
            var (stepLoss, mlm, nsp) = _objective.Loss(batch, counts, _train.NextSentence);
            var loss = factor == 1 ? stepLoss : stepLoss * factor;
            loss.backward();
            total += loss.item<float>();
            mlmTotal += mlm.item<float>() * factor;
            nspTotal += nsp.item<float>() * factor;
            tokens += batch.Tokens;
        }
        if (_group.IsDistributed)
        {
            _parallel.SumGradients();
            double[] sums = [total, mlmTotal, nspTotal, tokens];
            _group.Sum(sums);
            (total, mlmTotal, nspTotal, tokens) = (sums[0], sums[1], sums[2], (long)sums[3]);
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

    /// <summary>The objective's evaluation of <paramref name="data"/> (in stored order): masked-LM or next-token loss, perplexity and accuracy, and NSP accuracy.</summary>
    public EvaluationMetrics Evaluate(IPretrainingData data)
    {
        _model.eval();
        try { return _objective.Evaluate(data, _options.BatchSize, _options.EvalBatches); }
        finally { TrainingMode.Enter(_model, _objective.PretrainingDropout); }
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
                JsonSerializer.Serialize(new CheckpointState(Step, DataPosition, _options.Seed, SkippedSteps, ExamplesPerStep), new JsonSerializerOptions { WriteIndented = true }));
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
    /// <param name="Step">Optimizer steps done.</param>
    /// <param name="DataPosition">Training examples consumed.</param>
    /// <param name="Seed">The run's seed.</param>
    /// <param name="SkippedSteps">Steps whose update was skipped.</param>
    /// <param name="ExamplesPerStep">The global batch: ranks x micro-batches x batch size (0 in checkpoints older than data parallelism).</param>
    public sealed record CheckpointState(int Step, long DataPosition, int Seed, int SkippedSteps = 0, long ExamplesPerStep = 0);
}
