using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using SharpLM.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpLM.Bench;

/// <summary>
/// SharpLM's causal pretraining step against PyTorch's on the same Llama, weights and batch (real text: a byte-level
/// BPE of 8,192 tokens trained on the embedded English corpus, the first windows of its stream). Each contender runs
/// in its own process, after warm-up steps, alternating over rounds; the table gives medians and the ratio within
/// each round.
/// </summary>
public static class CausalStepBenchmark
{
    private sealed record Contender(string Name, Func<string[]> Command);

    /// <summary><c>causal-vs-pytorch [--preset mini] [--batch-size 16] [--seq 256] [--rounds 3] [--steps 6] [--warmup 2] [--threads N] [--work DIR]</c>.</summary>
    public static int Compare(string[] args)
    {
        string preset = Option(args, "--preset", "mini");
        int batchSize = Int(args, "--batch-size", 16), seq = Int(args, "--seq", 256), rounds = Int(args, "--rounds", 3);
        int steps = Int(args, "--steps", 6), warmup = Int(args, "--warmup", 2), threads = Int(args, "--threads", Environment.ProcessorCount);
        string work = Option(args, "--work", Path.Combine(Path.GetTempPath(), "sharplm-bench-causal"));
        Directory.CreateDirectory(work);

        var corpus = Path.Combine("data", "corpus", "sotu-1961-2018.txt"); // run from the repository root
        var tokenizer = ByteLevelBpeTrainer.Train(WordCounter.ByteLevel().Count(new CorpusTexts().ReadLines([corpus])), 8192, 2, [ByteLevelBpeTrainer.EndOfText]);
        var ids = new List<int>();
        foreach (var document in new CorpusTexts().Read([corpus]))
        {
            tokenizer.Encode(document.Text, ids);
            ids.Add(0);
            if (ids.Count >= batchSize * seq) break;
        }
        var config = LlamaConfig.Preset(preset, tokenizer.Count);
        string configPath = Path.Combine(work, $"{preset}.json"), weights = Path.Combine(work, $"{preset}.safetensors"), batch = Path.Combine(work, $"batch-{batchSize}x{seq}.safetensors");
        config.Save(configPath);
        random.manual_seed(1);
        using (var model = new LlamaForCausalLM(config))
        {
            model.Initialize();
            Safetensors.SaveStateDict(weights, model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
        }
        Safetensors.SaveStateDict(batch, new Dictionary<string, Tensor> { ["input_ids"] = tensor(ids.Take(batchSize * seq).Select(i => (long)i).ToArray(), batchSize, seq) });

        string self = typeof(CausalStepBenchmark).Assembly.Location;
        string peer = Path.GetFullPath(Path.Combine("bench", "pytorch_causal_step.py"));
        string S(int n) => n.ToString(CultureInfo.InvariantCulture);
        string[] Sharp(string precision) => ["dotnet", self, "causal-step", configPath, weights, batch, S(steps), S(warmup), S(threads), precision];
        var contenders = new List<Contender>
        {
            new("PyTorch 1.13 eager, fp32", () => ["/usr/bin/python3", peer, configPath, weights, batch, S(steps), S(warmup), S(threads)]),
            new("SharpLM, fp32", () => Sharp("fp32")),
            new("SharpLM, bf16 (the default here)", () => Sharp("bf16")),
        };
        Console.WriteLine($"causal {preset} ({config.NumHiddenLayers}x{config.HiddenSize}, vocab {config.VocabSize}), batch {batchSize}x{seq}, {threads} threads, {steps} timed steps after {warmup} warm-up, {rounds} rounds");
        var results = contenders.ToDictionary(c => c, _ => new List<(double TokensPerSecond, double Rss)>());
        for (int round = 0; round < rounds; round++)
        {
            var order = contenders.Skip(round % contenders.Count).Concat(contenders.Take(round % contenders.Count)).ToList();
            foreach (var contender in order)
            {
                var json = RunChild(contender.Command());
                double tps = json.GetProperty("tokens_per_second").GetDouble(), rss = json.GetProperty("peak_rss_mb").GetDouble();
                results[contender].Add((tps, rss));
                Console.WriteLine($"  round {round + 1}: {contender.Name,-34} {tps,9:F0} tokens/s  peak RSS {rss,7:F0} MB  loss {json.GetProperty("first_loss").GetDouble():F4} -> {json.GetProperty("last_loss").GetDouble():F4}");
            }
        }
        Console.WriteLine();
        Console.WriteLine("| contender | tokens/s (median) | peak RSS MB (median) | vs PyTorch, per round (median) |");
        Console.WriteLine("|---|---|---|---|");
        var torchResults = results[contenders[0]];
        foreach (var contender in contenders)
        {
            var mine = results[contender];
            string ratio = contender == contenders[0] ? "" : $"{Median.Of(mine.Zip(torchResults, (a, b) => a.TokensPerSecond / b.TokensPerSecond)):F2}x";
            Console.WriteLine($"| {contender.Name} | {Median.Of(mine.Select(r => r.TokensPerSecond)):F0} | {Median.Of(mine.Select(r => r.Rss)):F0} | {ratio} |");
        }
        return 0;
    }

    /// <summary>The child: <c>causal-step CONFIG WEIGHTS BATCH STEPS WARMUP THREADS PRECISION</c>; prints one JSON line.</summary>
    public static int Step(string[] args)
    {
        var config = LlamaConfig.Load(args[0]);
        int steps = int.Parse(args[3], CultureInfo.InvariantCulture), warmup = int.Parse(args[4], CultureInfo.InvariantCulture);
        set_num_threads(int.Parse(args[5], CultureInfo.InvariantCulture));
        using var model = new LlamaForCausalLM(config);
        var report = HuggingFaceCheckpoint.LoadWeights(model, args[1]);
        if (report.Missing.Count > 0) throw new InvalidOperationException($"{args[1]} lacks {report.Missing[0]}");
        var ids = Safetensors.LoadStateDict(args[2])["input_ids"];
        var rows = Enumerable.Range(0, (int)ids.shape[0]).Select(r => new PretrainingExample(ids[r].data<long>().Select(i => (int)i).ToArray(), (int)ids.shape[1], false, new MaskedPositions([], [], []))).ToList();
        using var batch = new PretrainingBatch(rows, 0);
        // A tokenizer only for the objective's byte counts; the step does not use it.
        var tokenizer = ByteLevelBpeTokenizer.FromMergeableRanks(Enumerable.Range(0, 256).ToDictionary(b => new[] { (byte)b }, b => b), new Dictionary<string, int>());
        string output = Directory.CreateTempSubdirectory("sharplm-causal-step-").FullName;
        try
        {
            var options = CausalLmObjective.Training with { BatchSize = rows.Count, Precision = args[6] };
            var trainer = new PretrainingTrainer(new CausalLmObjective(model, tokenizer), new EmptyData(), null, options, null, false, output);
            double first = 0, last = 0;
            for (int i = 0; i < warmup; i++) first = trainer.TrainOn([batch], 1e-3).Loss;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++) last = trainer.TrainOn([batch], 1e-3).Loss;
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(JsonSerializer.Serialize(new { tokens_per_second = ids.numel() * steps / seconds, peak_rss_mb = ProcessMemory.PeakResidentMegabytes, first_loss = first, last_loss = last }));
            return 0;
        }
        finally { Directory.Delete(output, recursive: true); }
    }

    // The trainer wants training data; the step benchmark feeds it one fixed batch instead.
    private sealed class EmptyData : IPretrainingData
    {
        public long Count => 0;
        public bool NextSentence => false;
        public PretrainingBatch TrainingBatch(long position, int batchSize) => throw new InvalidOperationException("the step benchmark trains on a fixed batch");
        public IEnumerable<PretrainingBatch> InOrder(int batchSize) => [];
    }

    private static JsonElement RunChild(string[] command)
    {
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in command[1..]) info.ArgumentList.Add(arg);
        // The machine's OpenBLAS settings for old processors halve PyTorch's fp32 speed here (docs/benchmarks.md).
        info.Environment.Remove("OPENBLAS_CORETYPE");
        info.Environment.Remove("OPENBLAS_L2_SIZE");
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{string.Join(' ', command)} failed:\n{error.Result}");
        return JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
    }

    private static int Int(string[] args, string name, int fallback) => int.Parse(Option(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
