using System.Diagnostics;
using SharpLM.Distributed;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>
/// Fine-tunes any model on a list of examples: the trainer knows nothing about BERT or the task, which
/// plugs in its loss, its dev evaluation and how it saves. Each epoch visits the examples in an order
/// drawn from (seed, epoch); dropout is seeded by (seed, step, micro-batch); so a seed gives the same run. A step
/// takes <see cref="FineTuningOptions.GradientAccumulation"/> micro-batches of <see cref="FineTuningOptions.BatchSize"/>
/// on each rank of a <see cref="ProcessGroup"/>: N ranks train exactly what one rank accumulating N times as many
/// micro-batches trains, each micro-batch's mean loss weighted by its share of the step's examples. The dev
/// metric is evaluated at every epoch end (and every <see cref="FineTuningOptions.EvalEvery"/> steps),
/// and the model is saved whenever it improves, so the output always holds the best model seen; with
/// <see cref="FineTuningOptions.Patience"/>, training stops once it has not improved for that many
/// evaluations. One DisposeScope per step keeps memory flat. Over several ranks, rank 0 alone evaluates, logs and saves.
/// </summary>
/// <typeparam name="TExample">A training example as the task's loss takes it.</typeparam>
public sealed class FineTuningTrainer<TExample>
{
    private readonly nn.Module _model;
    private readonly IReadOnlyList<TExample> _train;
    private readonly Func<IReadOnlyList<TExample>, (Tensor Loss, long Tokens)> _loss;
    private readonly Func<IReadOnlyDictionary<string, double>>? _evaluate;
    private readonly string _metric;
    private readonly Action _save;
    private readonly FineTuningOptions _options;
    private readonly AdamW _optimizer;
    private readonly List<Parameter> _parameters;
    private readonly ProcessGroup _group;
    private readonly DataParallel _parallel;

    /// <summary>
    /// Creates the trainer. <paramref name="loss"/> returns the mean loss of a batch and its tokens;
    /// <paramref name="evaluate"/> returns dev metrics (higher <paramref name="metric"/> is better), or is
    /// null to keep the last model; <paramref name="save"/> writes the model. With a <paramref name="group"/> of several
    /// ranks, every rank takes rank 0's weights here.
    /// </summary>
    public FineTuningTrainer(nn.Module model, IReadOnlyList<TExample> train, Func<IReadOnlyList<TExample>, (Tensor Loss, long Tokens)> loss,
        Func<IReadOnlyDictionary<string, double>>? evaluate, string metric, Action save, FineTuningOptions options, ProcessGroup? group = null)
    {
        if (train.Count == 0) throw new InvalidInputException("no training examples.");
        _model = model;
        _train = train;
        _loss = loss;
        _evaluate = evaluate;
        _metric = metric;
        _save = save;
        _options = options.Validate();
        _parameters = model.parameters().ToList();
        _optimizer = AdamWGroups.Create(model, options.LearningRate, 1e-8, options.WeightDecay);
        _group = group ?? ProcessGroup.Single;
        _parallel = new DataParallel(_group, _parameters);
        _parallel.BroadcastParameters();
    }

    /// <summary>Optimizer steps of the whole run.</summary>
    public int TotalSteps => _options.Epochs * StepsPerEpoch;

    /// <summary>Examples per optimizer step, over all ranks.</summary>
    public int ExamplesPerStep => _group.Size * _options.GradientAccumulation * _options.BatchSize;

    private int StepsPerEpoch => (_train.Count + ExamplesPerStep - 1) / ExamplesPerStep;

    /// <summary>Loss of every step, by step number (1-based).</summary>
    public SortedDictionary<int, double> Losses { get; } = new();

    /// <summary>The best dev metrics seen, or null before the first evaluation.</summary>
    public IReadOnlyDictionary<string, double>? Best { get; private set; }

    /// <summary>Called at every logged step and every evaluation.</summary>
    public event Action<FineTuningLogRecord>? Logged;

    /// <summary>Trains, evaluates and saves as configured; returns the best dev metrics (null without dev data).</summary>
    public IReadOnlyDictionary<string, double>? Run(CancellationToken cancellation = default)
    {
        var schedule = new LearningRateSchedule(_options.LearningRate, (int)(_options.WarmupFraction * TotalSteps), TotalSteps);
        var clock = Stopwatch.StartNew();
        var logClock = Stopwatch.StartNew();
        long tokensSinceLog = 0;
        int step = 0, evaluationsSinceBest = 0;
        bool stop = false;
        for (int epoch = 1; epoch <= _options.Epochs && !stop; epoch++)
        {
            int[] order = Enumerable.Range(0, _train.Count).ToArray();
            new Random(StableSeed.Of(_options.Seed, epoch)).Shuffle(order);
            for (int from = 0; from < order.Length && !stop; from += ExamplesPerStep)
            {
                if (_group.Any(cancellation.IsCancellationRequested)) { stop = true; break; }
                var examples = order.Skip(from).Take(ExamplesPerStep).Select(i => _train[i]).ToList();
                double learningRate = schedule.At(step);
                var (loss, tokens) = TrainStep(examples, learningRate, step);
                step++;
                Losses[step] = loss;
                tokensSinceLog += tokens;
                bool epochEnd = from + ExamplesPerStep >= order.Length;
                bool evaluate = _evaluate is not null && (epochEnd || (_options.EvalEvery > 0 && step % _options.EvalEvery == 0));
                IReadOnlyDictionary<string, double>? dev = null;
                bool best = false;
                if (evaluate && _group.IsRoot)
                {
                    dev = Evaluate();
                    best = Best is null || dev[_metric] > Best[_metric];
                    if (best)
                    {
                        Best = dev;
                        evaluationsSinceBest = 0;
                        _save();
                    }
                    else if (_options.Patience > 0 && ++evaluationsSinceBest >= _options.Patience) stop = true;
                }
                // Rank 0's early stop is every rank's.
                if (evaluate) stop = _group.Any(stop);
                if (_group.IsRoot && (step % _options.LogEvery == 0 || dev is not null || step == TotalSteps))
                {
                    double seconds = Math.Max(logClock.Elapsed.TotalSeconds, 1e-9);
                    Logged?.Invoke(new FineTuningLogRecord(step, TotalSteps, epoch, loss, learningRate, tokensSinceLog / seconds,
                        clock.Elapsed.TotalSeconds, clock.Elapsed.TotalSeconds / step * (TotalSteps - step), dev, best));
                    tokensSinceLog = 0;
                    logClock.Restart();
                }
            }
        }
        if (_evaluate is null && _group.IsRoot) _save();
        return Best;
    }

    // examples: the whole step's, over all ranks; this rank trains micro-batches rank·A to rank·A + A - 1 of them.
    private (double Loss, long Tokens) TrainStep(List<TExample> examples, double learningRate, int step)
    {
        using var scope = NewDisposeScope();
        _model.train();
        foreach (var group in _optimizer.ParamGroups) group.LearningRate = learningRate;
        _optimizer.zero_grad();
        double value = 0;
        long tokens = 0;
        for (int j = 0; j < _options.GradientAccumulation; j++)
        {
            int microBatch = _group.Rank * _options.GradientAccumulation + j;
            var batch = examples.Skip(microBatch * _options.BatchSize).Take(_options.BatchSize).ToList();
            // The last step of an epoch may leave a rank nothing: it back-propagates an example at weight 0, so that its
            // gradients exist, are zero, and the sum over the ranks stays the same.
            double weight = (double)batch.Count / examples.Count;
            if (batch.Count == 0)
            {
                if (!_group.IsDistributed) break;
                batch = [examples[0]];
            }
            random.manual_seed(StableSeed.ForMicroBatch(_options.Seed, step, microBatch));
            var (mean, batchTokens) = _loss(batch);
            var loss = weight == 1 ? mean : mean * weight;
            loss.backward();
            value += loss.item<float>();
            tokens += weight == 0 ? 0 : batchTokens;
        }
        if (_group.IsDistributed)
        {
            _parallel.SumGradients();
            double[] sums = [value, tokens];
            _group.Sum(sums);
            (value, tokens) = (sums[0], (long)sums[1]);
        }
        if (!double.IsFinite(value)) throw new InvalidOperationException($"the loss became {value} at step {step + 1}; lower --lr.");
        nn.utils.clip_grad_norm_(_parameters, _options.MaxGradNorm);
        _optimizer.step();
        return (value, tokens);
    }

    private IReadOnlyDictionary<string, double> Evaluate()
    {
        _model.eval();
        try
        {
            using var _ = no_grad();
            var metrics = _evaluate!();
            if (!metrics.ContainsKey(_metric)) throw new InvalidOperationException($"the evaluation gives no '{_metric}'.");
            return metrics;
        }
        finally { _model.train(); }
    }
}
