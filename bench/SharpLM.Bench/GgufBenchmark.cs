using System.Diagnostics;
using System.Globalization;
using LLama;
using LLama.Common;
using LLama.Native;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Tasks.Generation;
using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Bench;

/// <summary>
/// A causal model exported to GGUF at every type and run by llama.cpp (LLamaSharp 0.30.0, CPU): each file's size,
/// its perplexity on the first windows of a data folder's validation split (llama.cpp's logits, scored here) against
/// SharpLM's on the same windows, the largest logit difference, how many greedy continuations of real prompts agree
/// with SharpLM's for 20 tokens, and llama.cpp's generation speed.
/// </summary>
public static class GgufBenchmark
{
    /// <summary><c>gguf MODEL DATA [--windows 40] [--block-size 128] [--work DIR]</c>.</summary>
    public static int Run(string[] args)
    {
        string modelFolder = args[0], data = args[1];
        int windows = Int(args, "--windows", 40), block = Int(args, "--block-size", 128);
        string work = Option(args, "--work", Path.Combine(Path.GetTempPath(), "sharplm-bench-gguf"));
        Directory.CreateDirectory(work);
        NativeLibraryConfig.All.WithLogCallback((_, _) => { });
        using var generator = TextGenerator.Load(modelFolder);
        using var validation = new CausalTokenWindows(data, "validation", generator.Tokenizer, block, seed: 0);
        var sample = validation.First(windows);
        var ours = new CausalLmObjective(generator.Model, generator.Tokenizer).Evaluate(sample, 8, 0);
        string[] prompts = ["The state of the Union", "We must", "In the year 1850, the", "The President said that", "Our economy", "The Congress of the United States",
            "It is my duty to", "The American people", "Peace in the world", "The government has"];
        Console.WriteLine($"{modelFolder}: SharpLM (fp32) on {sample.Count} validation windows of {block}: perplexity {ours.Perplexity:F2}");
        Console.WriteLine("| type | file MB | llama.cpp perplexity | vs SharpLM | largest logit difference | greedy 20 tokens identical | llama.cpp tokens/s (generation) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (string type in LlamaGgufExport.Types.Keys)
        {
            string path = Path.Combine(work, $"model-{type}.gguf");
            LlamaGgufExport.Write(generator.Model, generator.Tokenizer, path, type);
            var parameters = new ModelParams(path)
            {
                ContextSize = (uint)Math.Max(block, 256), BatchSize = 256, Threads = Environment.ProcessorCount, GpuLayerCount = 0,
                TypeK = GGMLType.GGML_TYPE_F32, TypeV = GGMLType.GGML_TYPE_F32, FlashAttention = false,
            };
            using var weights = LLamaWeights.LoadFromFile(parameters);
            double nats = 0, worst = 0;
            long predicted = 0;
            using var _ = no_grad();
            foreach (var batch in sample.InOrder(1))
            {
                using (batch)
                {
                    using var context = weights.CreateContext(parameters);
                    long[] ids = batch.InputIds.data<long>().ToArray();
                    var llamaBatch = new LLamaBatch();
                    for (int i = 0; i < ids.Length; i++) llamaBatch.Add((LLamaToken)(int)ids[i], i, LLamaSeqId.Zero, true);
                    context.Decode(llamaBatch);
                    using var mine = generator.Model.forward(batch.InputIds);
                    for (int i = 0; i + 1 < ids.Length; i++)
                    {
                        float[] logits = context.NativeHandle.GetLogitsIth(i).ToArray();
                        double max = logits.Max(), sum = logits.Sum(l => Math.Exp(l - max));
                        nats -= logits[ids[i + 1]] - max - Math.Log(sum);
                        predicted++;
                        if (i % 16 == 0)
                        {
                            float[] reference = mine[0, i].data<float>().ToArray();
                            worst = Math.Max(worst, reference.Zip(logits, (a, b) => Math.Abs(a - b)).Max());
                        }
                    }
                }
            }
            int agree = 0;
            double generated = 0, seconds = 0;
            foreach (string prompt in prompts)
            {
                using var context = weights.CreateContext(parameters);
                int[] tokens = generator.PromptIds(prompt);
                var clock = Stopwatch.StartNew();
                var continuation = Greedy(context, tokens, 20);
                seconds += clock.Elapsed.TotalSeconds;
                generated += 20;
                var reference = generator.Generate(prompt, new GenerationOptions(MaxNewTokens: 20, Temperature: 0, RepetitionPenalty: 1));
                if (reference.TokenIds.SequenceEqual(continuation.Take(reference.TokenIds.Count))) agree++;
            }
            double perplexity = Math.Exp(nats / predicted), change = Math.Round((perplexity / ours.Perplexity - 1) * 100, 2);
            Console.WriteLine($"| {type} | {new FileInfo(path).Length / 1e6:F2} | {perplexity:F2} | {(change >= 0 ? "+" : "")}{change:F2}% | {worst:E1} | {agree} of {prompts.Length} | {generated / seconds:F0} |");
        }
        return 0;
    }

    // llama.cpp's greedy continuation, stopping at end-of-text as SharpLM's generate does.
    private static List<int> Greedy(LLamaContext context, int[] prompt, int count)
    {
        var result = new List<int>();
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Length; i++) batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Length - 1);
        context.Decode(batch);
        int position = prompt.Length;
        for (int step = 0; step < count; step++)
        {
            float[] logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1).ToArray();
            int next = Array.IndexOf(logits, logits.Max());
            result.Add(next);
            if (next == 0) break;
            batch = new LLamaBatch();
            batch.Add((LLamaToken)next, position++, LLamaSeqId.Zero, true);
            context.Decode(batch);
        }
        return result;
    }

    private static int Int(string[] args, string name, int fallback) => int.Parse(Option(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
