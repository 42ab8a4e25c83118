using System.Text.Json;
using SharpLM.Cli;
using SharpLM.Data;

namespace SharpLM.Tests.Cli;

[Collection(GlobalTorchRandomCollection.Name)]
public class PretrainCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    // Six speeches' paragraphs and 600 poems: enough documents that 1% go to validation.
    private string Corpus() => _temp.Write("corpus.txt",
        string.Join("\n\n", TestData.Lines(TestData.SotuPath).Skip(150).Take(6).Select(p => string.Join('\n', SentenceSplitter.Split(p)))
            .Concat(File.ReadAllText(TestData.TangPath).Split("\n\n").Take(600))) + "\n");

    [Fact]
    public void Pretrain_writes_metrics_plot_checkpoints_and_a_model_that_eval_and_fill_mask_use()
    {
        string run = _temp.Of("run"), corpus = Corpus(), vocab = _temp.Of("vocab.txt"), data = _temp.Of("data");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--input", corpus, "--vocab-size", "3000", "--output", vocab).ExitCode);
        Assert.Equal(0, CliRun.Of("data", "prepare", "--corpus", corpus, "--vocab", vocab, "--output", data, "--dupe-factor", "1", "--max-seq-length", "64", "--validation-fraction", "0.05").ExitCode);
        string[] common = ["pretrain", "--data", data, "--output", run,
            "--batch-size", "4", "--eval-every", "3", "--save-every", "3", "--warmup-steps", "2", "--seed", "5"];
        var first = CliRun.Of([.. common, "--max-steps", "6"]);
        Assert.True(first.ExitCode == 0, first.Error);
        var result = JsonDocument.Parse(first.Output).RootElement;
        Assert.Equal(6, result.GetProperty("step").GetInt32());
        Assert.True(result.GetProperty("validation").GetProperty("perplexity").GetDouble() > 1);
        var records = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(new[] { 3, 6 }, records.Select(r => r.GetProperty("step").GetInt32()));
        Assert.All(records, r => Assert.True(r.GetProperty("tokens_per_second").GetDouble() > 0));
        Assert.True(new FileInfo(Path.Combine(run, "loss.png")).Length > 1000);
        Assert.Equal("step-0000006", File.ReadAllText(Path.Combine(run, "checkpoints", "latest")).Trim());
        Assert.Contains("validation: mlm loss", first.Error);

        var resumed = CliRun.Of([.. common, "--max-steps", "9", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Contains("resumed from", resumed.Error);
        Assert.Equal(9, JsonDocument.Parse(resumed.Output).RootElement.GetProperty("step").GetInt32());
        Assert.Equal(new[] { 3, 6, 9 }, File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("step").GetInt32()));

        var evaluation = CliRun.Of("eval", "--model", Path.Combine(run, "model"), "--data", data);
        Assert.True(evaluation.ExitCode == 0, evaluation.Error);
        var metrics = JsonDocument.Parse(evaluation.Output).RootElement;
        Assert.Equal(Math.Exp(metrics.GetProperty("mlm_loss").GetDouble()), metrics.GetProperty("perplexity").GetDouble(), 6);
        var onCorpus = CliRun.Of("eval", "--model", Path.Combine(run, "model"), "--corpus", corpus);
        Assert.True(onCorpus.ExitCode == 0, onCorpus.Error);
        Assert.True(JsonDocument.Parse(onCorpus.Output).RootElement.GetProperty("examples").GetInt32() > 10);

        var fill = CliRun.Of("fill-mask", "--model", Path.Combine(run, "model"), "The [MASK] of the Union.");
        Assert.True(fill.ExitCode == 0, fill.Error);
    }

    [Fact]
    public void Electra_objective_saves_Hugging_Face_ELECTRA_folders_and_a_resumed_run_continues_the_same_curve()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string[] common = ["pretrain", "--objective", "electra", "--data", data, "--config", config, "--batch-size", "4", "--log-every", "1",
            "--eval-every", "3", "--save-every", "3", "--warmup-steps", "2", "--seed", "5", "--schedule", "constant"];
        var straight = CliRun.Of([.. common, "--output", _temp.Of("straight"), "--max-steps", "6"]);
        Assert.True(straight.ExitCode == 0, straight.Error);
        Assert.Contains("discriminator loss", straight.Error);
        var validation = JsonDocument.Parse(straight.Output).RootElement.GetProperty("validation");
        Assert.InRange(validation.GetProperty("replaced_token_accuracy").GetDouble(), 0, 1);
        Assert.True(validation.GetProperty("replaced_token_share").GetDouble() > 0);

        // Three steps, then three more resumed from the checkpoint: the same generator samples, the same losses.
        Assert.Equal(0, CliRun.Of([.. common, "--output", _temp.Of("resumed"), "--max-steps", "3"]).ExitCode);
        var resumed = CliRun.Of([.. common, "--output", _temp.Of("resumed"), "--max-steps", "6", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Equal(6, MetricsFile.Losses(_temp.Of("straight")).Count);
        Assert.Equal(MetricsFile.Losses(_temp.Of("straight")), MetricsFile.Losses(_temp.Of("resumed")));
        string model = _temp.Of("straight", "model"), generator = Path.Combine(model, "generator");
        Assert.Equal("ElectraForPreTraining", SharpLM.Model.BertConfig.Load(model).Architecture);
        Assert.Equal("ElectraForMaskedLM", SharpLM.Model.BertConfig.Load(generator).Architecture);
        var discriminatorNames = SharpLM.Interop.HuggingFaceCheckpoint.ReadWeights(model).Keys.ToList();
        Assert.Contains("discriminator_predictions.dense.weight", discriminatorNames);
        Assert.All(discriminatorNames, n => Assert.True(n.StartsWith("electra.") || n.StartsWith("discriminator_predictions."), n));
        var generatorWeights = SharpLM.Interop.HuggingFaceCheckpoint.ReadWeights(generator);
        var discriminatorWeights = SharpLM.Interop.HuggingFaceCheckpoint.ReadWeights(model);
        // The generator's folder carries the shared embeddings: the very values of the discriminator's.
        Assert.True(generatorWeights["electra.embeddings.word_embeddings.weight"].eq(discriminatorWeights["electra.embeddings.word_embeddings.weight"]).all().item<bool>());
        Assert.Contains("generator_lm_head.bias", generatorWeights.Keys);

        var fromDiscriminator = CliRun.Of("fill-mask", "--model", model, "The [MASK] of the Union.");
        fromDiscriminator.AssertFailsNaming(model, "generator");
        var fromGenerator = CliRun.Of("fill-mask", "--model", generator, "The [MASK] of the Union.");
        Assert.True(fromGenerator.ExitCode == 0, fromGenerator.Error);
        var evaluated = CliRun.Of("eval", "--model", generator, "--data", data);
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
    }

    [Fact]
    public void Pretrain_from_a_raw_corpus_prepares_the_data_first()
    {
        string vocab = _temp.Of("vocab.txt");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--input", Corpus(), "--vocab-size", "3000", "--output", vocab).ExitCode);
        var run = CliRun.Of("pretrain", "--corpus", Corpus(), "--vocab", vocab, "--output", _temp.Of("run"), "--batch-size", "4", "--max-steps", "2");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("prepared", run.Error);
        Assert.Equal(3000, PretrainingDataManifest.Load(_temp.Of("run", "data")).VocabSize);
        Assert.True(File.Exists(_temp.Of("run", "model", "model.safetensors")));
    }

    [Fact]
    public void Data_without_a_validation_split_trains_with_a_warning_and_null_validation()
    {
        string vocab = _temp.Of("vocab.txt"), data = _temp.Of("data");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--input", Corpus(), "--vocab-size", "3000", "--output", vocab).ExitCode);
        Assert.Equal(0, CliRun.Of("data", "prepare", "--corpus", Corpus(), "--vocab", vocab, "--output", data, "--dupe-factor", "1", "--max-seq-length", "64", "--validation-fraction", "0").ExitCode);
        var run = CliRun.Of("pretrain", "--data", data, "--output", _temp.Of("run"), "--batch-size", "4", "--max-steps", "2", "--eval-every", "1");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains($"warning: {data} has no validation examples", run.Error);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(run.Output).RootElement.GetProperty("validation").ValueKind);
    }

    [Fact]
    public void Without_data_pretrain_trains_on_the_embedded_English_corpus_in_64_token_segments_with_a_validation_split()
    {
        string run = _temp.Of("run");
        var result = CliRun.Of("pretrain", "--output", run, "--batch-size", "4", "--max-steps", "2", "--eval-every", "2", "--save-every", "0");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal([DefaultCorpus.EnglishFile], Directory.GetFiles(Path.Combine(run, "corpus")).Select(Path.GetFileName));
        var manifest = PretrainingDataManifest.Load(Path.Combine(run, "data"));
        Assert.Equal(64, manifest.Options.MaxSeqLength);
        Assert.False(manifest.Options.NextSentence);
        Assert.True(manifest.ValidationDocuments > 0 && manifest.ValidationExamples > 0);
        var vocabulary = SharpLM.Text.Vocabulary.Load(Path.Combine(run, "data", "vocab.txt"));
        Assert.Equal(8000, vocabulary.Count);
        Assert.DoesNotContain(vocabulary.Tokens, t => t.Any(c => c is >= '\u4e00' and <= '\u9fff')); // no Tang poems
        // A typed step count replaces the three-minute budget of the run with no arguments.
        Assert.Contains("2 steps", result.Error);
        Assert.DoesNotContain("00:03:00", result.Error);
        Assert.True(JsonDocument.Parse(result.Output).RootElement.GetProperty("validation").GetProperty("examples").GetInt32() > 0);
    }

    [Fact]
    public void A_recipe_shapes_the_prepared_data_and_the_model_and_typed_options_win_over_it()
    {
        string vocab = _temp.Of("vocab.txt");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--input", Corpus(), "--vocab-size", "3000", "--output", vocab).ExitCode);
        var cramming = CliRun.Of("pretrain", "--recipe", "cramming", "--corpus", Corpus(), "--vocab", vocab, "--output", _temp.Of("cramming"),
            "--batch-size", "4", "--max-steps", "2", "--lr", "3e-4", "--log-every", "1");
        Assert.True(cramming.ExitCode == 0, cramming.Error);
        var manifest = PretrainingDataManifest.Load(_temp.Of("cramming", "data"));
        Assert.False(manifest.Options.NextSentence);
        var config = SharpLM.Model.BertConfig.Load(_temp.Of("cramming", "model"));
        Assert.True(config.PreLayerNorm && config.GatedFeedForward && !config.LinearBias && !config.PretrainingDropout && config.SparseMaskedLm);
        // --lr was typed: the recipe's 1e-3 gives way; warmup is the recipe's 100 steps, so step 2 trains at 3e-4 * 1/100.
        var records = File.ReadAllLines(_temp.Of("cramming", "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3e-6, records[1].GetProperty("learning_rate").GetDouble(), 12);
        Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(cramming.Output).RootElement.GetProperty("validation").GetProperty("next_sentence_accuracy").ValueKind);

        var bert = CliRun.Of("pretrain", "--recipe", "bert", "--corpus", Corpus(), "--vocab", vocab, "--output", _temp.Of("bert"), "--batch-size", "4", "--max-steps", "1");
        Assert.True(bert.ExitCode == 0, bert.Error);
        Assert.True(PretrainingDataManifest.Load(_temp.Of("bert", "data")).Options.NextSentence);
        Assert.False(SharpLM.Model.BertConfig.Load(_temp.Of("bert", "model")).PreLayerNorm);

        var unknown = CliRun.Of("pretrain", "--recipe", "electra-ish", "--corpus", Corpus(), "--vocab", vocab, "--output", _temp.Of("unknown"));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("--recipe electra-ish: use", unknown.Error);
    }

    [Theory]
    [InlineData("--lr", "NaN", "--lr NaN: must be a positive number")]
    [InlineData("--lr", "-0.001", "--lr -0.001: must be a positive number")]
    [InlineData("--max-time", "soon", "--max-time soon: use a duration")]
    [InlineData("--schedule", "step", "--schedule step: use linear, cosine or constant")]
    [InlineData("--adam-beta2", "1", "--adam-beta2 1: must be in [0, 1)")]
    [InlineData("--clip", "0", "--clip 0: must be a positive number")]
    [InlineData("--precision", "fp16", "--precision fp16: use auto, fp32 or bf16")]
    [InlineData("--objective", "gpt", "--objective gpt: use mlm, electra or causal")]
    [InlineData("--position-embedding-type", "rotary", "--position-embedding-type rotary: use absolute, relative_key, relative_key_query")]
    public void Bad_settings_are_refused_before_any_work(string option, string value, string message)
    {
        var run = CliRun.Of("pretrain", "--corpus", Corpus(), "--vocab", TestData.BertBaseUncasedVocab, "--output", _temp.Of("run"), option, value);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.False(Directory.Exists(_temp.Of("run", "data")));
    }

    [Fact]
    public void Durations_parse_as_people_write_them()
    {
        Assert.Equal(TimeSpan.FromMinutes(30), SharpLM.Cli.PretrainCommand.ParseDuration("30m"));
        Assert.Equal(TimeSpan.FromSeconds(5400), SharpLM.Cli.PretrainCommand.ParseDuration("1h30m"));
        Assert.Equal(TimeSpan.FromSeconds(90), SharpLM.Cli.PretrainCommand.ParseDuration("90s"));
        Assert.Equal(TimeSpan.FromMinutes(2), SharpLM.Cli.PretrainCommand.ParseDuration("00:02:00"));
    }

    [Fact]
    public void Dry_run_times_real_steps_and_estimates_the_run_without_training_or_saving()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string run = _temp.Of("run");
        var dry = CliRun.Of("pretrain", "--data", data, "--config", config, "--output", run, "--batch-size", "8", "--max-steps", "1000", "--dry-run", "--threads", "1");
        Assert.True(dry.ExitCode == 0, dry.Error);
        var estimate = JsonDocument.Parse(dry.Output).RootElement;
        double perStep = estimate.GetProperty("seconds_per_step").GetDouble();
        Assert.True(perStep > 0);
        Assert.Equal(1000, estimate.GetProperty("steps").GetDouble());
        Assert.Equal(1000 * perStep, estimate.GetProperty("estimated_seconds").GetDouble(), 6);
        Assert.Equal(1, estimate.GetProperty("threads").GetInt32());
        Assert.InRange(estimate.GetProperty("tokens_per_step").GetDouble(), 8 * 10, 8 * 64);
        Assert.Contains("1,000 steps take about", dry.Error);
        Assert.False(File.Exists(Path.Combine(run, "metrics.jsonl")));
        Assert.False(Directory.Exists(Path.Combine(run, "checkpoints")));
        Assert.False(Directory.Exists(Path.Combine(run, "model")));

        // With a time budget, the estimate is the number of steps that fit in it.
        var budget = CliRun.Of("pretrain", "--data", data, "--config", config, "--output", run, "--batch-size", "8", "--max-time", "10m", "--dry-run");
        Assert.True(budget.ExitCode == 0, budget.Error);
        var timed = JsonDocument.Parse(budget.Output).RootElement;
        Assert.Equal(600, timed.GetProperty("estimated_seconds").GetDouble(), 6);
        Assert.Equal(Math.Floor(600 / timed.GetProperty("seconds_per_step").GetDouble()), timed.GetProperty("steps").GetDouble());
    }

    [Fact]
    public void Plot_draws_runs_against_steps_or_against_minutes()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        foreach (string seed in new[] { "1", "2" })
            Assert.Equal(0, CliRun.Of("pretrain", "--data", data, "--config", config, "--output", _temp.Of("run" + seed), "--batch-size", "4",
                "--max-steps", "4", "--eval-every", "2", "--log-every", "1", "--seed", seed).ExitCode);
        foreach (string[] extra in new[] { Array.Empty<string>(), ["--x", "minutes", "--validation-only"] })
        {
            string png = _temp.Of($"plot{extra.Length}.png");
            var plot = CliRun.Of(["plot", "--run", _temp.Of("run1"), _temp.Of("run2"), "--output", png, .. extra]);
            Assert.True(plot.ExitCode == 0, plot.Error);
            Assert.True(new FileInfo(png).Length > 1000);
        }
        Assert.NotEqual(File.ReadAllBytes(_temp.Of("plot0.png")), File.ReadAllBytes(_temp.Of("plot3.png")));
        Assert.Equal(2, CliRun.Of("plot", "--run", _temp.Of("run1"), "--output", _temp.Of("x.png"), "--x", "hours").ExitCode);
    }
}
