using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Tasks.Classification;
using SharpLM.Text;

namespace SharpLM.Tests.Cli;

/// <summary>pretrain --init: domain-adaptive and continual pretraining from a model folder, on text from the real corpus.</summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class ContinuedPretrainingTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Corpus() => _temp.Write("corpus.txt", string.Join("\n\n", TestData.Lines(TestData.SotuPath).Skip(150).Take(20)
        .Select(p => string.Join('\n', SentenceSplitter.Split(p)))) + "\n");

    private static List<JsonElement> Records(string run) =>
        File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();

    [Fact]
    public void A_fine_tuned_classifier_continues_as_a_masked_LM_with_its_encoder_vocabulary_and_a_new_tied_head()
    {
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count) with { MaxPositionEmbeddings = 128, Labels = ["a", "b"], Architecture = "BertForSequenceClassification" };
        TorchSharp.torch.random.manual_seed(7);
        string classifier = _temp.Of("classifier"), run = _temp.Of("run");
        using (var model = new BertForSequenceClassification(config, 2)) HuggingFaceCheckpoint.Save(model, config, vocabulary, classifier);

        // A learning rate so small that the encoder stays where it started, to the precision of the check.
        var result = CliRun.Of("pretrain", "--init", classifier, "--corpus", Corpus(), "--output", run, "--batch-size", "4", "--max-steps", "1", "--lr", "1e-12", "--save-every", "0");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains($"starting from {classifier}; new: ", result.Error);
        Assert.Contains("cls.predictions.bias", result.Error);
        Assert.Contains("pretraining 2x128", result.Error);

        string model2 = Path.Combine(run, "model");
        var saved = BertConfig.Load(model2);
        Assert.Equal("BertForPreTraining", saved.Architecture);
        Assert.Empty(saved.Labels);
        Assert.Equal(vocabulary.Hash(), Vocabulary.Load(model2).Hash());
        Assert.Equal(vocabulary.Hash(), PretrainingDataManifest.Load(Path.Combine(run, "data")).VocabHash);
        var before = HuggingFaceCheckpoint.ReadWeights(classifier);
        var after = HuggingFaceCheckpoint.ReadWeights(model2);
        foreach (var (name, value) in before.Where(p => p.Key.StartsWith("bert.", StringComparison.Ordinal)))
            Assert.True(value.allclose(after[name], rtol: 0, atol: 1e-6), name);
        Assert.DoesNotContain(after.Keys, k => k.StartsWith("classifier.", StringComparison.Ordinal));
        // The new head projects onto the word embeddings (tied, as BERT's): no decoder matrix of its own is saved.
        Assert.Contains("cls.predictions.transform.dense.weight", after.Keys);
        Assert.DoesNotContain("cls.predictions.decoder.weight", after.Keys);
        Assert.Equal(0, CliRun.Of("fill-mask", "--model", model2, "The [MASK] of the Union.").ExitCode);
    }

    [Fact]
    public void A_second_round_continues_from_the_first_round_model_where_it_left_off()
    {
        string start = TestData.TinyPretrainedModel(_temp.Of("random"), maxPositions: 128), corpus = Corpus();
        string[] Round(string init, string output) => ["pretrain", "--init", init, "--corpus", corpus, "--output", output, "--batch-size", "8",
            "--max-steps", "25", "--lr", "1e-3", "--warmup-steps", "2", "--log-every", "1", "--save-every", "0", "--seed", "3"];
        var first = CliRun.Of(Round(start, _temp.Of("round1")));
        Assert.True(first.ExitCode == 0, first.Error);
        var second = CliRun.Of(Round(_temp.Of("round1", "model"), _temp.Of("round2")));
        Assert.True(second.ExitCode == 0, second.Error);
        Assert.Contains("starting from", second.Error);
        Assert.DoesNotContain("new: ", second.Error); // the first round saved every weight, heads included
        double Mean(IEnumerable<JsonElement> records) => records.Average(r => r.GetProperty("loss").GetDouble());
        var one = Records(_temp.Of("round1"));
        var two = Records(_temp.Of("round2"));
        // Round 2 starts near where round 1 ended, well below where round 1 started.
        Assert.True(Mean(two.Take(3)) < Mean(one.Take(3)) - 1, $"round 1 {Mean(one.Take(3)):F3} -> {Mean(one.TakeLast(3)):F3}, round 2 starts {Mean(two.Take(3)):F3}");
        Assert.True(Mean(two.Take(3)) < Mean(one.TakeLast(3)) + 0.5, $"round 1 ends {Mean(one.TakeLast(3)):F3}, round 2 starts {Mean(two.Take(3)):F3}");
    }

    [Fact]
    public void Init_refuses_what_it_cannot_honour_before_any_work()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("model"), maxPositions: 128), corpus = Corpus();
        string[] common = ["pretrain", "--init", model, "--output", _temp.Of("run")];
        CliRun.Of([.. common, "--corpus", corpus, "--config", Path.Combine(model, "config.json")]).AssertFailsNaming(model, "--config cannot be given");
        CliRun.Of([.. common, "--corpus", corpus, "--preset", "mini"]).AssertFailsNaming(model, "--preset cannot be given");
        CliRun.Of([.. common, "--corpus", corpus, "--objective", "electra"]).AssertFailsNaming(model, "--objective electra cannot be given");
        CliRun.Of("pretrain", "--init", _temp.Of("nothing"), "--corpus", corpus, "--output", _temp.Of("run")).AssertFailsNaming("nothing", "not found");
        Assert.False(Directory.Exists(_temp.Of("run", "data")));

        // Data cut with another vocabulary would feed the model ids that mean other words.
        string vocab = _temp.Of("vocab.txt"), data = _temp.Of("data");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--input", corpus, "--vocab-size", "2000", "--output", vocab).ExitCode);
        Assert.Equal(0, CliRun.Of("data", "prepare", "--corpus", corpus, "--vocab", vocab, "--output", data, "--dupe-factor", "1", "--max-seq-length", "64").ExitCode);
        CliRun.Of([.. common, "--data", data]).AssertFailsNaming(data, "another vocabulary");

        var electra = BertConfig.Preset("tiny", Vocabulary.Load(TestData.BertBaseUncasedVocab).Count) with { ModelType = "electra", Architecture = "ElectraForPreTraining" };
        string electraFolder = _temp.Of("electra");
        Directory.CreateDirectory(electraFolder);
        electra.Save(Path.Combine(electraFolder, "config.json"));
        CliRun.Of("pretrain", "--init", electraFolder, "--corpus", corpus, "--output", _temp.Of("run")).AssertFailsNaming(electraFolder, "ELECTRA");
    }
}
