using LLama;
using LLama.Common;
using LLama.Native;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Tasks.Generation;
using SharpLM.Text;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace SharpLM.Tests.Interop;

/// <summary>
/// GGUF export against llama.cpp itself (LLamaSharp 0.30.0 with its CPU backend): the file SharpLM writes is loaded by
/// llama.cpp, which must cut real sentences into the same tokens, give the same next-token logits (f32: within 1e-3;
/// llama.cpp then runs with an f32 key/value cache and without flash attention, whose CPU kernel works in f16) and
/// continue greedily with the same 20 tokens. Grouped-query attention and a separate lm_head are exercised as well
/// as the tied default.
/// </summary>
public class GgufExportTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Prompts =
    [
        "The state of our union is strong.", "We must act now, because our children's future depends on it.",
        "In 1961, the economy grew by 3 percent", "Mr. Speaker, Mr. Vice President, members of Congress:",
    ];

    private readonly TempFolder _temp = new();

    static GgufExportTests() => NativeLibraryConfig.All.WithLogCallback((_, _) => { });

    public void Dispose() => _temp.Dispose();

    private static TextGenerator Model(bool tied, int keyValueHeads)
    {
        var lines = TestData.Lines(TestData.SotuPath).Take(60);
        var tokenizer = ByteLevelBpeTrainer.Train(WordCounter.ByteLevel(threads: 1).Count(lines), 700, 2, [ByteLevelBpeTrainer.EndOfText]);
        var config = new LlamaConfig
        {
            VocabSize = 700, HiddenSize = 64, IntermediateSize = 128, NumHiddenLayers = 2, NumAttentionHeads = 4, NumKeyValueHeads = keyValueHeads,
            MaxPositionEmbeddings = 256, RmsNormEps = 1e-5, RopeTheta = 10000, TieWordEmbeddings = tied, BosTokenId = 0, EosTokenId = 0,
        };
        random.manual_seed(tied ? 3 : 4);
        var model = new LlamaForCausalLM(config);
        model.Initialize();
        // Larger weights than an initialisation, so that logits are spread out and greedy choices are no near ties;
        // norm weights away from one, so that their placement matters.
        using (no_grad())
            foreach (var (_, p) in model.named_parameters())
                if (p.dim() == 2) p.mul_(8);
                else p.copy_(rand(p.shape) + 0.5);
        return TextGenerator.Over(model, tokenizer);
    }

    [Theory]
    [InlineData(true, 4)]
    [InlineData(false, 2)]
    public void Llama_cpp_reads_the_f32_file_with_the_same_tokens_logits_and_greedy_continuation(bool tied, int keyValueHeads)
    {
        using var ours = Model(tied, keyValueHeads);
        string path = _temp.Of("model-f32.gguf");
        LlamaGgufExport.Write(ours.Model, ours.Tokenizer, path, "f32");
        var parameters = Parameters(path);
        using var weights = LLamaWeights.LoadFromFile(parameters);
        double worst = 0;
        foreach (string prompt in Prompts)
        {
            using var context = weights.CreateContext(parameters);
            int[] tokens = context.Tokenize(prompt, addBos: true, special: true).Select(t => (int)t).ToArray();
            Assert.Equal(ours.PromptIds(prompt), tokens);
            float[] theirs = Decode(context, tokens, 0);
            using (no_grad())
            {
                using var logits = ours.Model.forward(tensor(tokens.Select(i => (long)i).ToArray(), 1, tokens.Length));
                float[] mine = logits[0, -1].data<float>().ToArray();
                double difference = mine.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
                worst = Math.Max(worst, difference);
                Assert.True(difference < 1e-3, $"'{prompt}': logits differ by {difference:E2}");
            }
            // 20 greedy tokens, one at a time through llama.cpp's cache.
            var continuation = new List<int>();
            int next = ArgMax(theirs);
            for (int step = 0; step < 20; step++)
            {
                continuation.Add(next);
                next = ArgMax(Decode(context, [next], tokens.Length + step));
            }
            var greedy = ours.Generate(prompt, new GenerationOptions(MaxNewTokens: 20, Temperature: 0, RepetitionPenalty: 1));
            Assert.Equal(greedy.TokenIds.Take(20), continuation.Take(greedy.TokenIds.Count));
            Assert.Equal(20, greedy.TokenIds.Count);
        }
        output.WriteLine($"tied {tied}, {keyValueHeads} kv heads: {Prompts.Length} prompts, same tokens; worst logit difference {worst:E2}; 20 greedy tokens identical");
    }

    [Theory]
    [InlineData("f16", 0.02)]
    [InlineData("q8_0", 0.3)]
    public void Half_and_eight_bit_files_load_and_stay_close(string type, double tolerance)
    {
        using var ours = Model(tied: true, keyValueHeads: 2);
        string path = _temp.Of($"model-{type}.gguf");
        LlamaGgufExport.Write(ours.Model, ours.Tokenizer, path, type);
        var parameters = Parameters(path);
        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        int[] tokens = ours.PromptIds(Prompts[0]);
        float[] theirs = Decode(context, tokens, 0);
        using var _ = no_grad();
        using var logits = ours.Model.forward(tensor(tokens.Select(i => (long)i).ToArray(), 1, tokens.Length));
        float[] mine = logits[0, -1].data<float>().ToArray();
        double scale = mine.Max(Math.Abs), difference = mine.Zip(theirs, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"{type}: {new FileInfo(path).Length:N0} bytes; worst logit difference {difference:E2} (logits up to {scale:F1}); same argmax {ArgMax(mine) == ArgMax(theirs)}");
        // Measured here: f16 6e-3, q8_0 0.13, on logits up to 4.2 from these deliberately large weights.
        Assert.True(difference < tolerance, $"{type}: logits differ by {difference:E2}");
    }

    // llama.cpp keeps its key/value cache in f16 unless told: the cache in f32 compares the model, not the cache.
    private static ModelParams Parameters(string path) => new(path)
    {
        ContextSize = 256, BatchSize = 256, Threads = 2, GpuLayerCount = 0, TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
    };

    private static float[] Decode(LLamaContext context, int[] tokens, int start)
    {
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Length; i++) batch.Add((LLamaToken)tokens[i], start + i, LLamaSeqId.Zero, i == tokens.Length - 1);
        Assert.Equal(DecodeResult.Ok, context.Decode(batch));
        return context.NativeHandle.GetLogitsIth(tokens.Length - 1).ToArray();
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
