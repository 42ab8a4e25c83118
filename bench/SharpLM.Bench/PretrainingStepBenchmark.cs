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
/// SharpLM's pretraining step against PyTorch's on the same model, weights and batch, in one
/// invocation. Every contender runs in its own process (so that peak RSS is its own), after warm-up
/// steps, and the contenders alternate over several rounds so that the machine's drift touches them
/// all alike; the table gives medians and ratios within rounds.
/// </summary>
public static class PretrainingStepBenchmark
{
    private sealed record Contender(string Name, string Framework, string Recipe, Func<string[]> Command);

    private sealed record Result(double TokensPerSecond, double PeakRssMb, double FirstLoss, double LastLoss);

    /// <summary>
    /// <c>pretrain-vs-pytorch [--preset mini] [--batch-size 32] [--seq 128] [--rounds 3] [--steps 8] [--warmup 2] [--threads N] [--work DIR] [--vocab VOCAB] [--sharplm-only]</c>.
    /// </summary>
    public static int Compare(string[] args)
    {
        string preset = Option(args, "--preset", "mini");
        int batchSize = int.Parse(Option(args, "--batch-size", "32"), CultureInfo.InvariantCulture);
        int seq = int.Parse(Option(args, "--seq", "128"), CultureInfo.InvariantCulture);
        int rounds = int.Parse(Option(args, "--rounds", "3"), CultureInfo.InvariantCulture);
        int steps = int.Parse(Option(args, "--steps", "8"), CultureInfo.InvariantCulture);
        int warmup = int.Parse(Option(args, "--warmup", "2"), CultureInfo.InvariantCulture);
        int threads = int.Parse(Option(args, "--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string work = Option(args, "--work", Path.Combine(Path.GetTempPath(), "sharplm-bench-step"));
        bool sharpOnly = args.Contains("--sharplm-only");
        string? vocabFile = args.Contains("--vocab") ? Path.GetFullPath(Option(args, "--vocab", "")) : null;
        Directory.CreateDirectory(work);

        string data = PrepareData(work, seq, vocabFile);
        var vocabulary = Vocabulary.Load(Path.Combine(data, "vocab.txt"));
        var hf = BertConfig.Preset(preset, vocabulary.Count) with { MaxPositionEmbeddings = Math.Max(512, seq) };
        var sparse = hf with { SparseMaskedLm = true };
        var recipe = PretrainingRecipe.Default.Model(hf);
        string weights = Path.Combine(work, $"{preset}-weights.safetensors"), batch = Path.Combine(work, $"batch-{batchSize}x{seq}.safetensors");
        // The default recipe's model has other shapes (GEGLU, no biases): weights of its own, from the same seed.
        string recipeWeights = Path.Combine(work, $"{preset}-default-weights.safetensors");
        WriteWeights(hf, weights);
        WriteWeights(recipe, recipeWeights);
        WriteBatch(data, vocabulary, batchSize, batch);
        string Config(string name, BertConfig config)
        {
            string path = Path.Combine(work, $"{preset}-{name}.json");
            config.Save(path);
            return path;
        }
        string hfConfig = Config("hf", hf), sparseConfig = Config("sparse", sparse), defaultConfig = Config("default", recipe);

        string self = typeof(PretrainingStepBenchmark).Assembly.Location;
        string peer = Path.GetFullPath(Path.Combine("bench", "pytorch_pretraining_step.py")); // run from the repository root
        string[] Sharp(string config, string precision = "fp32", string? from = null) => ["dotnet", self, "pretrain-step", config, from ?? weights, data, batchSize.ToString(CultureInfo.InvariantCulture), steps.ToString(CultureInfo.InvariantCulture), warmup.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture), precision];
        string[] Torch(string config, string name) => ["/usr/bin/python3", peer, config, weights, batch, name, steps.ToString(CultureInfo.InvariantCulture), warmup.ToString(CultureInfo.InvariantCulture), threads.ToString(CultureInfo.InvariantCulture)];
        var contenders = new List<Contender>
        {
            new("PyTorch 1.13 eager, HF recipe", "PyTorch", "hf", () => Torch(hfConfig, "hf")),
            new("SharpLM, HF recipe", "SharpLM", "hf", () => Sharp(hfConfig)),
            new("PyTorch 1.13 eager, sparse MLM", "PyTorch", "sparse", () => Torch(sparseConfig, "sparse")),
            new("SharpLM, sparse MLM", "SharpLM", "sparse", () => Sharp(sparseConfig)),
            new("SharpLM default recipe, fp32", "SharpLM", "default", () => Sharp(defaultConfig, "fp32", recipeWeights)),
            new("SharpLM default recipe, bf16", "SharpLM", "default-bf16", () => Sharp(defaultConfig, "bf16", recipeWeights)),
        };
        if (sharpOnly) contenders.RemoveAll(c => c.Framework == "PyTorch");

        Console.WriteLine($"{preset} ({hf.NumHiddenLayers}x{hf.HiddenSize}, vocab {hf.VocabSize}), batch {batchSize}x{seq}, {threads} threads, {steps} timed steps after {warmup} warm-up, {rounds} rounds");
        var results = contenders.ToDictionary(c => c, _ => new List<Result>());
        for (int round = 0; round < rounds; round++)
        {
            // Rotate the order every round so that no contender always runs first or last.
            var order = contenders.Skip(round % contenders.Count).Concat(contenders.Take(round % contenders.Count)).ToList();
            foreach (var contender in order)
            {
                var result = Run(contender.Command());
                results[contender].Add(result);
                Console.WriteLine($"  round {round + 1}: {contender.Name,-34} {result.TokensPerSecond,9:F0} tokens/s  peak RSS {result.PeakRssMb,7:F0} MB  loss {result.FirstLoss:F4} -> {result.LastLoss:F4}");
            }
        }

        Console.WriteLine();
        Console.WriteLine("| contender | tokens/s (median) | peak RSS MB (median) | vs PyTorch, same recipe | vs PyTorch HF recipe |");
        Console.WriteLine("|---|---|---|---|---|");
        var torchHf = contenders.FirstOrDefault(c => c.Framework == "PyTorch" && c.Recipe == "hf");
        foreach (var contender in contenders)
        {
            var mine = results[contender];
            var twin = contenders.FirstOrDefault(c => c.Framework == "PyTorch" && c.Recipe == contender.Recipe && c != contender);
            string Ratio(Contender? other) => other is null || other == contender ? "" :
                $"{Median.Of(mine.Zip(results[other], (a, b) => a.TokensPerSecond / b.TokensPerSecond)):F2}x speed, {Median.Of(mine.Zip(results[other], (a, b) => a.PeakRssMb / b.PeakRssMb)):F2}x RSS";
            Console.WriteLine($"| {contender.Name} | {Median.Of(mine.Select(r => r.TokensPerSecond)):F0} | {Median.Of(mine.Select(r => r.PeakRssMb)):F0} | {Ratio(twin)} | {Ratio(torchHf)} |");
        }
        return 0;
    }

    /// <summary>The child: <c>pretrain-step CONFIG WEIGHTS DATA BATCH STEPS WARMUP THREADS [PRECISION]</c>; prints one JSON line.</summary>
    public static int Step(string[] args)
    {
        string configPath = args[0], weights = args[1], data = args[2];
        int batchSize = int.Parse(args[3], CultureInfo.InvariantCulture), steps = int.Parse(args[4], CultureInfo.InvariantCulture);
        int warmup = int.Parse(args[5], CultureInfo.InvariantCulture);
        set_num_threads(int.Parse(args[6], CultureInfo.InvariantCulture));
        var config = BertConfig.Load(configPath);
        var vocabulary = Vocabulary.Load(Path.Combine(data, "vocab.txt"));
        using var model = new BertForPreTraining(config);
        var state = HuggingFaceCheckpoint.ReadWeights(weights);
        var report = HuggingFaceCheckpoint.Load(model, state, weights);
        if (report.Missing.Count > 0) throw new InvalidOperationException($"{weights} lacks {report.Missing[0]}");
        foreach (var tensor in state.Values) tensor.Dispose();
        using var train = new PretrainingBatches(data, "train", vocabulary, seed: 1);
        string output = Directory.CreateTempSubdirectory("sharplm-step-").FullName;
        try
        {
            var options = new PretrainingOptions(BatchSize: batchSize, LearningRate: 1e-4, Precision: args.Length > 7 ? args[7] : "fp32");
            var trainer = new PretrainingTrainer(model, train, null, options, vocabulary, lowercase: true, output);
            using var batch = train.TrainingBatch(0, batchSize);
            double first = 0, last = 0;
            long tokens = 0;
            for (int i = 0; i < warmup; i++) first = trainer.TrainOn([batch], 1e-4).Loss;
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < steps; i++)
            {
                var result = trainer.TrainOn([batch], 1e-4);
                last = result.Loss;
                tokens += result.Tokens;
            }
            double seconds = clock.Elapsed.TotalSeconds;
            Console.WriteLine(JsonSerializer.Serialize(new { tokens_per_second = tokens / seconds, peak_rss_mb = ProcessMemory.PeakResidentMegabytes, first_loss = first, last_loss = last }));
            return 0;
        }
        finally { Directory.Delete(output, recursive: true); }
    }

    private static Result Run(string[] command)
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
        var json = JsonDocument.Parse(output.Trim().Split('\n')[^1]).RootElement;
        return new Result(json.GetProperty("tokens_per_second").GetDouble(), json.GetProperty("peak_rss_mb").GetDouble(),
            json.GetProperty("first_loss").GetDouble(), json.GetProperty("last_loss").GetDouble());
    }

    // The embedded corpus with bert-base-uncased's vocabulary, or with vocabFile (another vocabulary size).
    private static string PrepareData(string work, int seq, string? vocabFile)
    {
        var size = vocabFile is null ? "" : $"-{Vocabulary.Load(vocabFile).Count}";
        string folder = Path.Combine(work, $"data-{seq}{size}");
        if (File.Exists(Path.Combine(folder, PretrainingDataManifest.FileName))) return folder;
        string vocab = vocabFile ?? BertBaseUncased.WriteVocab(work);
        string[] corpus = [Path.Combine("data", "corpus", "sotu-1961-2018.txt"), Path.Combine("data", "corpus", "tang-poems.txt")];
        new PretrainingDataWriter(new BertTokenizer(Vocabulary.Load(vocab)), new PretrainingDataOptions(MaxSeqLength: seq, DupeFactor: 1, Seed: 1,
            MaxPredictions: (int)Math.Ceiling(seq * 0.15))).Write(corpus, folder);
        return folder;
    }

    private static void WriteWeights(BertConfig config, string path)
    {
        random.manual_seed(1);
        using var model = new BertForPreTraining(config);
        Safetensors.SaveStateDict(path, model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
    }

    // The batch the SharpLM child trains on (the first of the training split), in the layout of the PyTorch peer.
    private static void WriteBatch(string data, Vocabulary vocabulary, int batchSize, string path)
    {
        using var train = new PretrainingBatches(data, "train", vocabulary, seed: 1);
        using var batch = train.TrainingBatch(0, batchSize);
        using var labels = full(batch.InputIds.shape, BertForPreTraining.IgnoreIndex, dtype: int64);
        labels.view(-1).index_put_(batch.MaskedLabels, batch.MaskedPositions);
        Safetensors.SaveStateDict(path, new Dictionary<string, Tensor>
        {
            ["input_ids"] = batch.InputIds, ["token_type_ids"] = batch.TokenTypeIds, ["attention_mask"] = batch.AttentionMask,
            ["mlm_labels"] = labels, ["nsp_labels"] = batch.NextSentenceLabels,
        });
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
