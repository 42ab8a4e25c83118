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

    private string Data(bool nextSentence = true, string sentenceSuffix = "")
    {
        string folder = _temp.Of(nextSentence ? "data" : "data-no-nsp", sentenceSuffix.Length.ToString());
        if (!Directory.Exists(folder))
        {
            string corpus = _temp.Write("corpus.txt", string.Join("\n\n", TestData.Lines(TestData.SotuPath).Skip(100).Take(12)
                .Select(p => string.Join('\n', SentenceSplitter.Split(p).Select(s => s + sentenceSuffix)))) + "\n");
            new PretrainingDataWriter(Tokenizer.Value, new PretrainingDataOptions(MaxSeqLength: 32, DupeFactor: 1, ValidationFraction: 0.2, Seed: 3, NextSentence: nextSentence)).Write([corpus], folder);
        }
        return folder;
    }

    private static BertConfig Config(double dropout = 0.1) =>
        new BertConfig { VocabSize = 30522, HiddenSize = 32, NumHiddenLayers = 2, NumAttentionHeads = 2, IntermediateSize = 64, MaxPositionEmbeddings = 64,
            HiddenDropoutProb = dropout, AttentionProbsDropoutProb = dropout };

    private PretrainingTrainer Trainer(string output, PretrainingOptions options, BertConfig config, out BertForPreTraining model, string? data = null)
    {
        random.manual_seed(options.Seed);
        model = new BertForPreTraining(config);
        data ??= Data();
        var train = new PretrainingBatches(data, "train", Tokenizer.Value.Vocabulary, options.Seed, options.DynamicMasking);
        var validation = new PretrainingBatches(data, "validation", Tokenizer.Value.Vocabulary, options.Seed);
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

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Pretraining_dropout_false_trains_without_dropout_and_true_with_the_configs_dropout(bool pretrainingDropout)
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, Seed: 5);
        var trainer = Trainer(_temp.Of($"dropout-{pretrainingDropout}"), options, Config(dropout: 0.3) with { PretrainingDropout = pretrainingDropout }, out var model);
        using var train = new PretrainingBatches(Data(), "train", Tokenizer.Value.Vocabulary, options.Seed);
        using var batch = train.TrainingBatch(0, 8);
        // At learning rate 0 the weights stay as they are, so only dropout can make two losses differ.
        double first = trainer.TrainOn([batch], 0).Loss, second = trainer.TrainOn([batch], 0).Loss;
        if (pretrainingDropout) Assert.NotEqual(first, second);
        else Assert.Equal(first, second);
        Assert.True(model.training, "the model itself stays in training mode");
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
        Assert.InRange(metrics.NextSentenceAccuracy!.Value, 0, 1);
        Assert.True(metrics.Examples > 0);
        Assert.NotNull(records[^1].Validation);
        Assert.True(File.Exists(Path.Combine(trainer.ModelDirectory, "model.safetensors")));
        Assert.Equal(30522, BertConfig.Load(trainer.ModelDirectory).VocabSize);
    }

    [Fact]
    public void A_non_finite_loss_stops_the_run_naming_the_last_good_checkpoint_which_stays_intact()
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1, MaxSteps: 8, SaveEvery: 2, Seed: 6);
        var trainer = Trainer(_temp.Of("run"), options, Config(), out _);
        trainer.LossFactorForTests = step => step == 4 ? double.NaN : 1;
        var e = Assert.Throws<InvalidInputException>(() => trainer.Run());
        Assert.Contains("the loss became NaN at step 5", e.Message);
        Assert.Contains("step-0000004", e.Message);
        string latest = PretrainingTrainer.LatestCheckpoint(_temp.Of("run"))!;
        Assert.EndsWith("step-0000004", latest);
        CheckpointManifest.Verify(latest);
        Assert.False(Directory.Exists(trainer.ModelDirectory));
    }

    [Fact]
    public void Skip_nonfinite_drops_the_update_of_a_bad_step_counts_it_and_goes_on()
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1, MaxSteps: 6, Seed: 7, SkipNonFinite: true, LogEvery: 1);
        var skipping = Trainer(_temp.Of("skipping"), options, Config(dropout: 0), out var skippingModel);
        skipping.LossFactorForTests = step => step == 2 ? double.PositiveInfinity : 1;
        var records = new List<TrainingLogRecord>();
        skipping.Logged += records.Add;
        skipping.Run(untilStep: 3);
        var clean = Trainer(_temp.Of("clean"), options, Config(dropout: 0), out var cleanModel);
        clean.Run(untilStep: 2);

        Assert.Equal(1, skipping.SkippedSteps);
        Assert.Equal([0, 0, 1], records.Select(r => r.SkippedSteps));
        // The skipped step changed nothing: the weights are those after the two good steps.
        foreach (var ((name, a), (_, b)) in skippingModel.named_parameters().Zip(cleanModel.named_parameters()))
            Assert.True(a.equal(b).all().item<bool>(), name);
        skipping.Run();
        Assert.Equal(6, skipping.Step);
        Assert.All(skipping.Losses.Where(p => p.Key != 2), p => Assert.True(double.IsFinite(p.Value)));
        Assert.Equal(1, System.Text.Json.JsonSerializer.Deserialize<PretrainingTrainer.CheckpointState>(
            File.ReadAllText(Path.Combine(PretrainingTrainer.LatestCheckpoint(_temp.Of("skipping"))!, "trainer_state.json")))!.SkippedSteps);
    }

    [Fact]
    public void A_checkpoint_file_cut_short_or_altered_is_named_on_resume_and_only_the_newest_checkpoints_are_kept()
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1, MaxSteps: 10, SaveEvery: 2, Seed: 8, KeepCheckpoints: 2);
        Trainer(_temp.Of("run"), options, Config(), out _).Run(untilStep: 7);
        Assert.Equal(["step-0000006", "step-0000007"], Directory.GetDirectories(_temp.Of("run", "checkpoints")).Select(Path.GetFileName).Order());
        string latest = PretrainingTrainer.LatestCheckpoint(_temp.Of("run"))!;
        var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(latest, CheckpointManifest.FileName))).RootElement;
        Assert.Equal(["config.json", "model.safetensors", "optimizer.bin", "tokenizer_config.json", "trainer_state.json", "vocab.txt"],
            manifest.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("name").GetString()));

        string weights = Path.Combine(latest, "optimizer.bin");
        byte[] original = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, original[..(original.Length / 2)]);
        var cut = Assert.Throws<InvalidInputException>(() => Trainer(_temp.Of("run"), options, Config(), out _).Resume(latest));
        Assert.Contains(weights, cut.Message);
        Assert.Contains("truncated", cut.Message);

        original[^10] ^= 1;
        File.WriteAllBytes(weights, original);
        var altered = Assert.Throws<InvalidInputException>(() => Trainer(_temp.Of("run"), options, Config(), out _).Resume(latest));
        Assert.Contains("SHA-256 differs", altered.Message);
    }

    [Theory]
    [InlineData("evaluation")]
    [InlineData("checkpoint")]
    public void A_time_budget_that_ends_during_an_evaluation_or_a_checkpoint_save_still_saves_and_evaluates_the_final_model(string phase)
    {
        var budget = TimeSpan.FromSeconds(3);
        // With a checkpoint, the last evaluation before the budget ran out was of step 2: the final model still gets its own.
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1, MaxSteps: 1000, MaxTime: budget,
            EvalEvery: phase == "evaluation" ? 3 : 2, SaveEvery: 3, Seed: 5);
        var trainer = Trainer(_temp.Of(phase), options, Config(), out _);
        int outlasted = 0;
        // The first evaluation or checkpoint save of step 3 runs past the end of the budget.
        trainer.PhaseStartedForTests = started =>
        {
            if (started == phase && trainer.Step == 3 && outlasted++ == 0) Thread.Sleep(budget + TimeSpan.FromMilliseconds(200));
        };
        var records = new List<TrainingLogRecord>();
        trainer.Logged += records.Add;
        var metrics = trainer.Run();

        Assert.Equal(1, outlasted);
        Assert.Equal(3, trainer.Step);
        Assert.True(File.Exists(Path.Combine(trainer.ModelDirectory, "model.safetensors")), "the final model folder is written");
        Assert.NotNull(metrics);
        Assert.Equal(3, records[^1].Step);
        Assert.Equal(metrics, records[^1].Validation);
        Assert.EndsWith("step-0000003", PretrainingTrainer.LatestCheckpoint(_temp.Of(phase)));
    }

    [Fact]
    public void Evaluation_reports_the_share_of_unknown_labels_and_the_loss_and_accuracy_without_them()
    {
        // "🦄" is not in bert-base-uncased's vocabulary: every unicorn word is [UNK].
        string data = Data(sentenceSuffix: " A 🦄 and 🦄🦄 stood there.");
        var vocabulary = Tokenizer.Value.Vocabulary;
        random.manual_seed(1);
        using var model = new BertForPreTraining(Config(dropout: 0));
        using var validation = new PretrainingBatches(data, "train", vocabulary, seed: 1);
        var metrics = Evaluation.Run(model, validation, batchSize: 8);

        // The same figures by hand, label by label.
        double knownLoss = 0, allLoss = 0;
        long known = 0, all = 0, knownCorrect = 0;
        model.eval();
        using (no_grad())
            foreach (var batch in validation.InOrder(8))
                using (batch)
                {
                    var (logits, _) = model.PretrainingLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, batch.MaskedPositions);
                    var losses = nn.functional.cross_entropy(logits, batch.MaskedLabels, reduction: nn.Reduction.None).data<float>().ToArray();
                    var guesses = logits.argmax(-1).data<long>().ToArray();
                    var labels = batch.MaskedLabels.data<long>().ToArray();
                    for (int i = 0; i < labels.Length; i++)
                    {
                        all++;
                        allLoss += losses[i];
                        if (labels[i] == vocabulary.UnknownId) continue;
                        known++;
                        knownLoss += losses[i];
                        if (guesses[i] == labels[i]) knownCorrect++;
                    }
                }
        Assert.True(all > known, "the corpus has [UNK] labels");
        Assert.Equal((double)(all - known) / all, metrics.UnknownLabelShare, 9);
        Assert.Equal(knownLoss / known, metrics.KnownMaskedLmLoss, 4);
        Assert.Equal(allLoss / all, metrics.MaskedLmLoss, 4);
        Assert.Equal((double)knownCorrect / known, metrics.KnownMaskedLmAccuracy, 9);
        Assert.NotNull(metrics.NextSentenceAccuracy);
    }

    [Fact]
    public void Data_without_sentence_pairs_trains_the_masked_lm_alone_and_reports_no_nsp_figures()
    {
        var options = new PretrainingOptions(BatchSize: 8, LearningRate: 1e-3, WarmupSteps: 1, MaxSteps: 4, Seed: 3, LogEvery: 1, AdamBeta2: 0.98, MaxGradNorm: 0.5);
        var trainer = Trainer(_temp.Of("run"), options, Config(dropout: 0), out _, Data(nextSentence: false));
        var records = new List<TrainingLogRecord>();
        trainer.Logged += records.Add;
        var metrics = trainer.Run()!;
        Assert.All(records, r => Assert.Equal(0, r.NextSentenceLoss));
        Assert.All(records, r => Assert.Equal(r.Loss, r.MaskedLmLoss));
        Assert.Null(metrics.NextSentenceAccuracy);
        Assert.Null(metrics.NextSentenceLoss);
        Assert.True(trainer.Losses[3] < trainer.Losses[0], "the loss falls");
    }
}
