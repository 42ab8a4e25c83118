using SharpLM.Model;
using SharpLM.Tasks.Generation;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tests.Tasks;

/// <summary>
/// Generation against the model itself: greedy decoding with the key/value cache must pick, at every step, the argmax of
/// the whole sequence run again without a cache; stop texts cut the output; sampling follows the seed.
/// </summary>
public class TextGeneratorTests
{
    private static TextGenerator Generator()
    {
        var lines = TestData.Lines(TestData.SotuPath).Take(40);
        var tokenizer = ByteLevelBpeTrainer.Train(WordCounter.ByteLevel(threads: 1).Count(lines), 500, 2, [ByteLevelBpeTrainer.EndOfText]);
        var config = new LlamaConfig
        {
            VocabSize = 500, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = 2,
            MaxPositionEmbeddings = 128, RmsNormEps = 1e-5, BosTokenId = 0, EosTokenId = 0,
        };
        random.manual_seed(11);
        var model = new LlamaForCausalLM(config);
        // Wide weights, so that random logits are far apart and the greedy choice is not a near tie.
        model.Initialize();
        using (no_grad())
            foreach (var (_, p) in model.named_parameters()) if (p.dim() == 2) p.mul_(10);
        return TextGenerator.Over(model, tokenizer);
    }

    [Fact]
    public void Greedy_decoding_with_the_cache_picks_the_argmax_of_the_whole_sequence_every_step()
    {
        using var generator = Generator();
        var result = generator.Generate("The state of the", new GenerationOptions(MaxNewTokens: 20, Temperature: 0, RepetitionPenalty: 1));
        Assert.Equal("length", result.StopReason);
        var ids = generator.PromptIds("The state of the").ToList();
        using var _ = no_grad();
        foreach (int chosen in result.TokenIds)
        {
            using var logits = generator.Model.forward(tensor(ids.Select(i => (long)i).ToArray(), 1, ids.Count));
            Assert.Equal(logits[0, -1].argmax().item<long>(), chosen);
            ids.Add(chosen);
        }
        Assert.Equal(generator.Tokenizer.Decode(result.TokenIds), result.Text);
    }

    [Fact]
    public void A_stop_text_ends_the_output_before_it_and_streaming_hands_out_the_same_text()
    {
        using var generator = Generator();
        var full = generator.Generate("We", new GenerationOptions(MaxNewTokens: 30, Temperature: 0));
        Assert.True(full.Text.Length > 6, full.Text);
        string stop = full.Text.Substring(4, 2);
        var pieces = new List<string>();
        var stopped = generator.Generate("We", new GenerationOptions(MaxNewTokens: 30, Temperature: 0, Stop: [stop]), pieces.Add);
        Assert.Equal("stop", stopped.StopReason);
        Assert.Equal(full.Text[..full.Text.IndexOf(stop, StringComparison.Ordinal)], stopped.Text);
        Assert.Equal(stopped.Text, string.Concat(pieces));
    }

    [Fact]
    public void Sampling_follows_the_seed()
    {
        using var generator = Generator();
        GenerationOptions Seeded(long seed) => new(MaxNewTokens: 25, Temperature: 1.0, TopK: 0, TopP: 1, Seed: seed);
        var a = generator.Generate("The", Seeded(1));
        Assert.Equal(a.TokenIds, generator.Generate("The", Seeded(1)).TokenIds);
        Assert.NotEqual(a.TokenIds, generator.Generate("The", Seeded(2)).TokenIds);
        // Top-k 1 is greedy whatever the temperature.
        Assert.Equal(generator.Generate("The", new GenerationOptions(MaxNewTokens: 10, Temperature: 0, RepetitionPenalty: 1)).TokenIds,
            generator.Generate("The", new GenerationOptions(MaxNewTokens: 10, Temperature: 5, TopK: 1, RepetitionPenalty: 1)).TokenIds);
    }
}
