using System.Runtime.InteropServices;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;

namespace SharpLM.Tests.Cli;

/// <summary>
/// The causal pipeline through the command line, as a user runs it: a byte-level BPE from text, token streams from a
/// corpus, a Llama pretrained on them (a resumed run continues the same curve), then eval and generate on the folder.
/// </summary>
public class CausalLanguageModelTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static LlamaConfig TinyConfig => new()
    {
        VocabSize = 400, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 1,
        MaxPositionEmbeddings = 64, RmsNormEps = 1e-5, TieWordEmbeddings = true, BosTokenId = 0, EosTokenId = 0,
    };

    /// <summary>A tokenizer of 400 tokens and causal data from the embedded corpus; returns the data folder and a tiny config.</summary>
    private (string Data, string Config) Prepare()
    {
        string tokenizer = _temp.Of("tokenizer", "tokenizer.json");
        var trained = CliRun.Of("vocab", "train", "--type", "bpe", "--input", TestData.SotuPath, "--vocab-size", "400", "--output", tokenizer);
        Assert.True(trained.ExitCode == 0, trained.Error);
        Assert.All(new[] { "tokenizer.json", "vocab.json", "merges.txt" }, f => Assert.True(File.Exists(_temp.Of("tokenizer", f)), f));
        string data = _temp.Of("data");
        var prepared = CliRun.Of("data", "prepare", "--objective", "causal", "--tokenizer", tokenizer, "--corpus", TestData.SotuPath, "--output", data, "--validation-fraction", "0.1");
        Assert.True(prepared.ExitCode == 0, prepared.Error);
        string config = _temp.Of("config.json");
        TinyConfig.Save(config);
        return (data, config);
    }

    [Fact]
    public void Data_prepare_writes_each_document_then_end_of_text_in_one_stream_per_split()
    {
        var (data, _) = Prepare();
        var manifest = CausalDataManifest.Load(data);
        Assert.True(manifest.ValidationDocuments > 0 && manifest.TrainDocuments > manifest.ValidationDocuments);
        var tokenizer = ByteLevelBpeFiles.Load(data);
        int[] stream = MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(Path.Combine(data, "train.bin"))).ToArray();
        Assert.Equal(manifest.TrainTokens, stream.Length);
        Assert.Equal(manifest.TrainDocuments, stream.Count(id => id == manifest.EndOfTextId));
        // The documents come back whole, in corpus order, each ended by <|endoftext|>.
        var documents = new CorpusTexts().Read([TestData.SotuPath]).Select(d => d.Text).ToList();
        string first = tokenizer.Decode(stream.TakeWhile(id => id != manifest.EndOfTextId));
        Assert.Contains(first, documents);
        Assert.Equal(documents.Count, manifest.TrainDocuments + manifest.ValidationDocuments);
    }

    [Fact]
    public void Causal_pretraining_resumes_on_the_same_curve_and_eval_and_generate_use_its_folder()
    {
        var (data, config) = Prepare();
        string[] common = ["pretrain", "--objective", "causal", "--data", data, "--config", config, "--block-size", "32", "--batch-size", "4", "--log-every", "1",
            "--eval-every", "3", "--save-every", "3", "--warmup-steps", "2", "--seed", "5", "--schedule", "constant", "--precision", "fp32", "--lr", "3e-3"];
        var straight = CliRun.Of([.. common, "--output", _temp.Of("straight"), "--max-steps", "6"]);
        Assert.True(straight.ExitCode == 0, straight.Error);
        Assert.Contains("bits per byte", straight.Error);
        Assert.Equal(0, CliRun.Of([.. common, "--output", _temp.Of("resumed"), "--max-steps", "3"]).ExitCode);
        var resumed = CliRun.Of([.. common, "--output", _temp.Of("resumed"), "--max-steps", "6", "--resume"]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Equal(6, MetricsFile.Losses(_temp.Of("straight")).Count);
        Assert.Equal(MetricsFile.Losses(_temp.Of("straight")), MetricsFile.Losses(_temp.Of("resumed")));
        Assert.True(MetricsFile.Losses(_temp.Of("straight"))[^1] < MetricsFile.Losses(_temp.Of("straight"))[0], "the loss did not fall");

        // A Hugging Face LlamaForCausalLM folder.
        string model = _temp.Of("straight", "model");
        foreach (string file in new[] { "config.json", "generation_config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "vocab.json", "merges.txt" })
            Assert.True(File.Exists(Path.Combine(model, file)), file);
        Assert.True(LlamaConfig.IsLlamaFolder(model));
        var names = HuggingFaceCheckpoint.ReadWeights(model).Keys.Order().ToList();
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", names);
        Assert.Contains("model.norm.weight", names);
        Assert.DoesNotContain("lm_head.weight", names); // tied, as Hugging Face saves it

        // eval gives the run's own validation figures: training evaluates its first 50 batches of 4 windows, so eval
        // with --max-windows 200 reads the same ones.
        var validation = JsonDocument.Parse(straight.Output).RootElement.GetProperty("validation");
        var evaluated = CliRun.Of("eval", "--model", model, "--data", data, "--block-size", "32", "--max-windows", "200");
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
        var figures = JsonDocument.Parse(evaluated.Output).RootElement;
        double loss = figures.GetProperty("loss").GetDouble();
        Assert.Equal(200, figures.GetProperty("windows").GetInt32());
        Assert.Equal(validation.GetProperty("masked_lm_loss").GetDouble(), loss, 4);
        Assert.Equal(Math.Exp(loss), figures.GetProperty("perplexity").GetDouble(), 6);
        Assert.Equal(validation.GetProperty("bits_per_byte").GetDouble(), figures.GetProperty("bits_per_byte").GetDouble(), 4);
        Assert.True(validation.GetProperty("next_token").GetBoolean());

        // generate: the prompt, then the continuation; the same seed, the same text; one JSON line per prompt with --input.
        string[] sample = ["generate", "--model", model, "--max-new-tokens", "12", "--seed", "3", "The economy"];
        var once = CliRun.Of(sample);
        Assert.True(once.ExitCode == 0, once.Error);
        Assert.StartsWith("The economy", once.Output);
        Assert.Equal(once.Output, CliRun.Of(sample).Output);
        string prompts = _temp.Write("prompts.txt", "We must\n\nThe Congress\n"u8.ToArray());
        var batch = CliRun.Of("generate", "--model", model, "--input", prompts, "--temperature", "0", "--max-new-tokens", "5");
        Assert.True(batch.ExitCode == 0, batch.Error);
        var lines = batch.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["We must", "The Congress"], lines.Select(l => l.GetProperty("prompt").GetString()));
        Assert.All(lines, l => Assert.Contains(l.GetProperty("stop_reason").GetString(), new[] { "length", "eos" }));
    }

    [Theory]
    [InlineData("--vocab", "vocab.txt", "--vocab is for masked-LM pretraining")]
    [InlineData("--recipe", "bert", "--recipe is for masked-LM pretraining")]
    [InlineData("--block-size", "1", "--block-size 1: must be at least 2")]
    public void Causal_pretraining_refuses_masked_LM_options(string option, string value, string message)
    {
        var run = CliRun.Of("pretrain", "--objective", "causal", option, value, "--output", _temp.Of("run"), "--max-steps", "1");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public void Bad_inputs_to_the_causal_verbs_get_one_clear_line()
    {
        var (data, config) = Prepare();
        CliRun.Of("data", "prepare", "--objective", "causal", "--corpus", TestData.SotuPath, "--output", _temp.Of("d2"))
            .AssertFailsNaming("--tokenizer", "give --tokenizer tokenizer.json");
        // A BERT folder is not a causal model.
        string bert = _temp.Of("bert");
        TestData.TinyPretrainedModel(bert, 32);
        CliRun.Of("generate", "--model", bert, "hello").AssertFailsNaming(Path.Combine(bert, "config.json"), "model_type is 'bert', not 'llama'");
        // A cut-short weights file is named.
        var run = CliRun.Of("pretrain", "--objective", "causal", "--data", data, "--config", config, "--block-size", "32", "--batch-size", "2", "--max-steps", "1",
            "--output", _temp.Of("run"));
        Assert.True(run.ExitCode == 0, run.Error);
        string weights = _temp.Of("run", "model", "model.safetensors");
        var bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length / 2)]);
        CliRun.Of("generate", "--model", _temp.Of("run", "model"), "hello").AssertFailsNaming(weights, "");
        // eval checks its options before it prepares a corpus for them.
        var model = _temp.Of("run", "model");
        File.WriteAllBytes(weights, bytes);
        CliRun.Of("eval", "--model", model, "--corpus", TestData.SotuPath, "--block-size", "32", "--max-windows", "-1").AssertFailsNaming("--max-windows", "must be zero (all) or positive");
        CliRun.Of("eval", "--model", model, "--corpus", TestData.SotuPath, "--block-size", "65").AssertFailsNaming("--block-size 65", "longer than the model's max_position_embeddings (64)");
        CliRun.Of("generate", "--model", _temp.Of("run", "model"), "--temperature", "-1", "hello").AssertFailsNaming("--temperature", "must be zero (greedy) or positive");
        // Causal data is not masked-LM data, and an output folder keeps the kind of data it was made with.
        CliRun.Of("pretrain", "--data", data, "--output", _temp.Of("mlm"), "--max-steps", "1").AssertFailsNaming(data, "train on it with --objective causal");
        Directory.CreateDirectory(_temp.Of("earlier", "data"));
        foreach (string file in Directory.GetFiles(data)) File.Copy(file, _temp.Of("earlier", "data", Path.GetFileName(file)));
        CliRun.Of("pretrain", "--corpus", TestData.SotuPath, "--output", _temp.Of("earlier"), "--max-steps", "1").AssertFailsNaming(_temp.Of("earlier", "data"), "holds causal-LM data");
        Assert.True(File.Exists(_temp.Of("earlier", "data", "causal.json")), "the earlier run's data was deleted");
                // Data made with one tokenizer is refused with another.
        string other = _temp.Of("other", "tokenizer.json");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--type", "bpe", "--input", TestData.SotuPath, "--vocab-size", "300", "--output", other).ExitCode);
        CliRun.Of("pretrain", "--objective", "causal", "--data", data, "--tokenizer", other, "--output", _temp.Of("run2"), "--max-steps", "1")
            .AssertFailsNaming(data, "prepared with another tokenizer");
    }
}
