using SharpLM.Data;
using SharpLM.Model;
using SharpLM.Text;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tests.Training;

[Collection(GlobalTorchRandomCollection.Name)]
public class PretrainingTrainerTests : IDisposable
{
    private readonly TempFolder _temp = new();
    private static readonly Lazy<BertTokenizer> Tokenizer = new(() => BertTokenizer.Load(TestData.BertBaseUncasedVocab));

    public void Dispose() => _temp.Dispose();

    private string Data()
    {
        string folder = _temp.Of("data");
        if (!Directory.Exists(folder))
        {
            string corpus = _temp.Write("corpus.txt", string.Join("\n\n", TestData.Lines(TestData.SotuPath).Skip(100).Take(12).Select(p => string.Join('\n', SentenceSplitter.Split(p)))) + "\n");
            new PretrainingDataWriter(Tokenizer.Value, new PretrainingDataOptions(MaxSeqLength: 32, DupeFactor: 1, ValidationFraction: 0.2, Seed: 3)).Write([corpus], folder);
        }
        return folder;
    }

    private static BertConfig Config(double dropout = 0.1) =>
        new BertConfig { VocabSize = 30522, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, MaxPositionEmbeddings = 64,
            HiddenDropoutProb = dropout, AttentionProbsDropoutProb = dropout };

    private PretrainingTrainer Trainer(string output, PretrainingOptions options, BertConfig config, out BertForPreTraining model)
    {
        random.manual_seed(options.Seed);
        model = new BertForPreTraining(config);
        var train = new PretrainingBatches(Data(), "train", Tokenizer.Value.Vocabulary, options.Seed, options.DynamicMasking);
        var validation = new PretrainingBatches(Data(), "validation", Tokenizer.Value.Vocabulary, options.Seed);
        return new PretrainingTrainer(model, train, validation, options, Tokenizer.Value.Vocabulary, lowercase: true, output);
    }

    [Fact]
    public void Resume_continues_the_same_loss_curve()
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 2, MaxSteps: 8, DynamicMasking: true, Seed: 9);
        var straight = Trainer(_temp.Of("straight"), options, Config(), out _);
        straight.Run();

        var first = Trainer(_temp.Of("split"), options, Config(), out _);
        first.Run(untilStep: 4); // as if interrupted after step 4
        Assert.False(Directory.Exists(first.ModelDirectory));
        var second = Trainer(_temp.Of("split"), options, Config(), out _);
        second.Resume(PretrainingTrainer.LatestCheckpoint(_temp.Of("split"))!);
        Assert.Equal(4, second.Step);
        second.Run();

        var resumed = first.Losses.Concat(second.Losses).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(straight.Losses.Keys, resumed.Keys.Order());
        foreach (var (step, loss) in straight.Losses) Assert.Equal(loss, resumed[step]);
        Assert.True(straight.Losses[7] < straight.Losses[0], "the loss falls");
    }

    [Fact]
    public void Accumulating_two_micro_batches_is_the_step_of_one_double_batch()
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 0, MaxSteps: 3, Seed: 4);
        var whole = Trainer(_temp.Of("whole"), options with { BatchSize = 16 }, Config(dropout: 0), out var wholeModel);
        whole.Run();
        var accumulated = Trainer(_temp.Of("accumulated"), options with { GradientAccumulation = 2 }, Config(dropout: 0), out var accumulatedModel);
        accumulated.Run();
        foreach (var (step, loss) in whole.Losses) Assert.Equal(loss, accumulated.Losses[step], 4);
        var a = wholeModel.named_parameters().Single(p => p.name == "bert.encoder.layer.1.output.dense.weight").parameter;
        var b = accumulatedModel.named_parameters().Single(p => p.name == "bert.encoder.layer.1.output.dense.weight").parameter;
        Assert.True(a.allclose(b, rtol: 1e-4, atol: 1e-6));
    }

    [Fact]
    public void Evaluation_reports_loss_perplexity_and_accuracies_and_the_final_model_is_a_model_folder()
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1, MaxSteps: 3, Seed: 2);
        var trainer = Trainer(_temp.Of("run"), options, Config(), out _);
        var records = new List<TrainingLogRecord>();
        trainer.Logged += records.Add;
        var metrics = trainer.Run()!;
        Assert.Equal(Math.Exp(metrics.MaskedLmLoss), metrics.Perplexity, 6);
        Assert.InRange(metrics.MaskedLmAccuracy, 0, 1);
        Assert.InRange(metrics.NextSentenceAccuracy, 0, 1);
        Assert.True(metrics.Examples > 0);
        Assert.NotNull(records[^1].Validation);
        Assert.True(File.Exists(Path.Combine(trainer.ModelDirectory, "model.safetensors")));
        Assert.Equal(30522, BertConfig.Load(trainer.ModelDirectory).VocabSize);
    }
}
