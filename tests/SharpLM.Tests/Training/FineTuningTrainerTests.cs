using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

[Collection(GlobalTorchRandomCollection.Name)]
public class FineTuningTrainerTests
{
    // A small regression task: the trainer knows nothing about BERT, so any module and loss plug in.
    private static (nn.Module Model, Func<IReadOnlyList<int>, (Tensor, long)> Loss) Task(int seed)
    {
        random.manual_seed(seed);
        var model = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.Linear(8, 1));
        (Tensor, long) Loss(IReadOnlyList<int> batch)
        {
            var x = tensor(batch.SelectMany(i => new float[] { i, i % 3, i % 5, 1 }).ToArray(), batch.Count, 4) / 10;
            var y = tensor(batch.Select(i => (float)Math.Sin(i)).ToArray(), batch.Count, 1);
            return (nn.functional.mse_loss(((nn.Module<Tensor, Tensor>)model).call(x), y), batch.Count);
        }
        return (model, Loss);
    }

    [Fact]
    public void The_same_seed_gives_the_same_losses_and_another_seed_other_ones()
    {
        var examples = Enumerable.Range(0, 40).ToList();
        SortedDictionary<int, double> Run(int seed)
        {
            var (model, loss) = Task(1);
            var trainer = new FineTuningTrainer<int>(model, examples, loss, null, "x", () => { }, new FineTuningOptions { Epochs = 2, BatchSize = 8, LearningRate = 1e-2, Seed = seed });
            trainer.Run();
            return trainer.Losses;
        }
        var first = Run(7);
        Assert.Equal(10, first.Count);
        Assert.Equal(first, Run(7));
        Assert.NotEqual(first.Values, Run(8).Values);
    }

    [Fact]
    public void The_model_is_saved_at_each_better_dev_metric_and_patience_stops_the_run()
    {
        var (model, loss) = Task(1);
        var scripted = new Queue<double>([0.5, 0.7, 0.6, 0.65, 0.9]);
        var saves = new List<double>();
        double current = 0;
        var trainer = new FineTuningTrainer<int>(model, Enumerable.Range(0, 16).ToList(), loss,
            () => new Dictionary<string, double> { ["accuracy"] = current = scripted.Dequeue() }, "accuracy", () => saves.Add(current),
            new FineTuningOptions { Epochs = 10, BatchSize = 4, EvalEvery = 2, Patience = 2 });
        var best = trainer.Run();
        // Evaluations at steps 2, 4 (epoch end), 6, 8: 0.5 saved, 0.7 saved, 0.6 and 0.65 not better: two without gain, stop.
        Assert.Equal([0.5, 0.7], saves);
        Assert.Equal(0.7, best!["accuracy"]);
        Assert.Equal(8, trainer.Losses.Count);
        Assert.Single(scripted);
    }
}
