using System.Text.Json;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Tests.Interop;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tests.Cli;

// Seeds libtorch's global generator and expects the model it then draws (fill-mask's guesses must be whole words).
[Collection(GlobalTorchRandomCollection.Name)]
public class ModelCommandsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static float[] Floats(JsonElement array) => array.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    [Fact]
    public void Embed_cls_mean_and_tokens_match_ONNX_Runtime_on_all_MiniLM_L6_v2()
    {
        string text = "The state of our Union is strong.";
        var tokenizer = BertTokenizer.Load(TestData.BertBaseUncasedVocab);
        var encoded = tokenizer.Encode(text);
        int length = encoded.Length;
        var (hidden, _) = MiniLmOnnx.RunOnnx(encoded.Ids.Select(i => (long)i).ToArray(), new long[length], Enumerable.Repeat(1L, length).ToArray(), 1, length);

        var cls = CliRun.Of("embed", "--model", MiniLmOnnx.ModelDirectory, "--pooling", "cls", text);
        Assert.Equal(0, cls.ExitCode);
        float[] clsVector = Floats(JsonDocument.Parse(cls.Output).RootElement.GetProperty("embedding"));
        Assert.Equal(384, clsVector.Length);
        Assert.All(Enumerable.Range(0, 384), i => Assert.True(Math.Abs(clsVector[i] - hidden[i]) <= 1e-4));

        var mean = CliRun.Of("embed", "--model", MiniLmOnnx.ModelDirectory, "--pooling", "mean", text);
        float[] meanVector = Floats(JsonDocument.Parse(mean.Output).RootElement.GetProperty("embedding"));
        Assert.All(Enumerable.Range(0, 384), i =>
            Assert.True(Math.Abs(meanVector[i] - Enumerable.Range(0, length).Average(t => hidden[t * 384 + i])) <= 1e-4));

        string input = _temp.Write("lines.txt", $"{text}\nA second line.\n");
        var tokens = CliRun.Of("embed", "--model", MiniLmOnnx.ModelDirectory, "--pooling", "tokens", "--input", input);
        var lines = tokens.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        var first = JsonDocument.Parse(lines[0]).RootElement;
        Assert.Equal(encoded.Ids, first.GetProperty("ids").EnumerateArray().Select(v => v.GetInt32()));
        Assert.Equal(length, first.GetProperty("tokens").GetArrayLength());
        Assert.True(Math.Abs(Floats(first.GetProperty("tokens")[3])[7] - hidden[3 * 384 + 7]) <= 1e-4);
    }

    [Fact]
    public void Fill_mask_gives_the_top_k_of_the_model_own_softmax_for_every_mask()
    {
        random.manual_seed(5);
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count) with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        string directory = _temp.Of("tiny");
        using var model = new BertForPreTraining(config);
        HuggingFaceCheckpoint.Save(model, config, vocabulary, directory);

        var run = CliRun.Of("fill-mask", "--model", directory, "--top-k", "3", "The [MASK] of the Union is [MASK].");
        Assert.Equal(0, run.ExitCode);
        var lines = run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);

        model.eval();
        var encoded = new BertTokenizer(vocabulary).Encode("The [MASK] of the Union is [MASK].");
        using var ids = tensor(encoded.Ids.Select(i => (long)i).ToArray()).unsqueeze(0);
        var (logits, _) = model.call(ids, zeros_like(ids), ones_like(ids));
        foreach (var line in lines)
        {
            int position = line.GetProperty("position").GetInt32();
            Assert.Equal(vocabulary.MaskId, encoded.Ids[position]);
            var expected = logits[0, position].softmax(-1).topk(3);
            var predictions = line.GetProperty("predictions").EnumerateArray().ToList();
            Assert.Equal(expected.indexes.data<long>().ToArray(), predictions.Select(p => p.GetProperty("token").GetInt64()));
            Assert.All(predictions.Zip(expected.values.data<float>().ToArray()), p => Assert.Equal(p.Second, p.First.GetProperty("score").GetSingle(), 5));
            Assert.Equal(vocabulary[(int)predictions[0].GetProperty("token").GetInt64()], predictions[0].GetProperty("token_str").GetString());
        }
    }

    [Fact]
    public void Fill_mask_input_gives_one_line_per_text_as_each_text_alone_gives_it()
    {
        random.manual_seed(6);
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count) with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        string directory = _temp.Of("tiny-input");
        using (var model = new BertForPreTraining(config)) HuggingFaceCheckpoint.Save(model, config, vocabulary, directory);
        string[] texts = ["The [MASK] of the Union is [MASK].", "A much longer text, so that the first one is padded in the batch: the [MASK] is strong."];
        string input = _temp.Write("masks.txt", string.Join("\n", texts) + "\n\n");

        var batch = CliRun.Of("fill-mask", "--model", directory, "--top-k", "2", "--input", input);
        Assert.Equal(0, batch.ExitCode);
        var lines = batch.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(2, lines.Count);
        for (int i = 0; i < texts.Length; i++)
        {
            var alone = CliRun.Of("fill-mask", "--model", directory, "--top-k", "2", texts[i]).Output
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
            var masks = lines[i].EnumerateArray().ToList();
            Assert.Equal(alone.Count, masks.Count);
            foreach (var (mine, single) in masks.Zip(alone))
            {
                Assert.Equal(single.GetProperty("position").GetInt32(), mine.GetProperty("position").GetInt32());
                var a = single.GetProperty("predictions").EnumerateArray().ToList();
                var b = mine.GetProperty("predictions").EnumerateArray().ToList();
                Assert.Equal(a.Select(p => p.GetProperty("token").GetInt64()), b.Select(p => p.GetProperty("token").GetInt64()));
                Assert.Equal(a.Select(p => p.GetProperty("sequence").GetString()), b.Select(p => p.GetProperty("sequence").GetString()));
                Assert.All(a.Zip(b), p => Assert.Equal(p.First.GetProperty("score").GetDouble(), p.Second.GetProperty("score").GetDouble(), 5));
            }
        }
    }

    [Fact]
    public void Fill_mask_refuses_a_model_without_a_masked_LM_head_and_a_text_without_MASK()
    {
        CliRun.Of("fill-mask", "--model", MiniLmOnnx.ModelDirectory, "The [MASK] is strong.")
            .AssertFailsNaming(MiniLmOnnx.ModelDirectory, "no masked-LM head");
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count);
        string directory = _temp.Of("tiny");
        using (var model = new BertForPreTraining(config)) HuggingFaceCheckpoint.Save(model, config, vocabulary, directory);
        var run = CliRun.Of("fill-mask", "--model", directory, "No mask here.");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("no [MASK] token", run.Error);
    }

    [Fact]
    public void Model_folders_that_do_not_fit_are_refused_with_the_file_and_the_problem()
    {
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        string directory = _temp.Of("model");
        var config = BertConfig.Preset("tiny", vocabulary.Count);
        using (var model = new BertForPreTraining(config)) HuggingFaceCheckpoint.Save(model, config, vocabulary, directory);

        // A vocabulary that is not the model's.
        File.WriteAllLines(Path.Combine(directory, "vocab.txt"), vocabulary.Tokens.Take(1000));
        CliRun.Of("embed", "--model", directory, "hello").AssertFailsNaming(directory, "vocab.txt has 1000 tokens but config.json says vocab_size 30522");

        // A config whose sizes differ from the weights.
        vocabulary.Save(Path.Combine(directory, "vocab.txt"));
        (config with { IntermediateSize = 1024 }).Save(Path.Combine(directory, "config.json"));
        CliRun.Of("embed", "--model", directory, "hello").AssertFailsNaming(directory, "bert.encoder.layer.0.intermediate.dense.weight has shape [512, 128] but the model's");

        // A config that is invalid in itself.
        File.WriteAllText(Path.Combine(directory, "config.json"), "{\"hidden_size\": 100, \"num_attention_heads\": 3}");
        CliRun.Of("embed", "--model", directory, "hello").AssertFailsNaming("config.json", "hidden_size 100 is not divisible by num_attention_heads 3");

        // A truncated weights file.
        config.Save(Path.Combine(directory, "config.json"));
        string weights = Path.Combine(directory, "model.safetensors");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..1000]);
        CliRun.Of("embed", "--model", directory, "hello").AssertFailsNaming(weights, "(truncated?)");
        CliRun.Of("embed", "--model", _temp.Of("nope"), "hello").AssertFailsNaming(_temp.Of("nope"), "not found");

        // An input that is a folder, not a file.
        CliRun.Of("embed", "--model", MiniLmOnnx.ModelDirectory, "--input", _temp.Path).AssertFailsNaming(_temp.Path, "is a folder; embed --input takes one text file");
    }

    [Fact]
    public void Eval_cloze_scores_the_answers_that_are_one_token_as_fill_mask_ranks_them()
    {
        random.manual_seed(6);
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count) with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        string directory = _temp.Of("tiny");
        using (var model = new BertForPreTraining(config)) HuggingFaceCheckpoint.Save(model, config, vocabulary, directory);
        // Answers: fill-mask's own first and third guesses, one word fill-mask ranks low, and a word of
        // several pieces (skipped: one [MASK] cannot hold it).
        string text = "The [MASK] of the Union is strong.";
        var guesses = JsonDocument.Parse(CliRun.Of("fill-mask", "--model", directory, "--top-k", "3", text).Output).RootElement
            .GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("token_str").GetString()!).ToList();
        Assert.DoesNotContain(guesses, g => g.StartsWith("##"));
        string probe = _temp.Write("cloze.tsv", $"{text}\t{guesses[0]}\n{text}\t{guesses[2]}\n\n{text}\tunconstitutionality\n");

        var run = CliRun.Of("eval", "--model", directory, "--cloze", probe, "--top-k", "3");
        Assert.Equal(0, run.ExitCode);
        var result = JsonDocument.Parse(run.Output).RootElement;
        Assert.Equal(2, result.GetProperty("cloze_questions").GetInt32());
        Assert.Equal(1, result.GetProperty("cloze_skipped").GetInt32());
        Assert.Equal(0.5, result.GetProperty("cloze_top1").GetDouble());
        Assert.Equal(1.0, result.GetProperty("cloze_top3").GetDouble());

        string bad = _temp.Write("bad.tsv", $"{text}\t{guesses[0]}\nno mask here\tword\n");
        var refused = CliRun.Of("eval", "--model", directory, "--cloze", bad);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains($"{bad}: line 2", refused.Error);
    }
}
