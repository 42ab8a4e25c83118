using System.Diagnostics;
using System.Text.Json;
using SharpLM.Tests.Cli;
using SharpLM.Training;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpLM.Tests.Distributed;

/// <summary>
/// Data-parallel training under real <c>mpirun</c>: N ranks with accumulation A against one process accumulating
/// N·A micro-batches of the same size (one intra-op thread per process, so that each product sums in the same order),
/// resume with another number of ranks, and faults that must end every rank.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class DataParallelTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string[] Pretrain(string data, string config, string output, int accumulation, params string[] more) =>
    [
        "pretrain", "--data", data, "--config", config, "--output", output, "--batch-size", "4", "--grad-accum", accumulation.ToString(),
        "--max-steps", "20", "--warmup-steps", "2", "--log-every", "1", "--eval-every", "10", "--save-every", "10", "--keep-checkpoints", "0",
        "--precision", "fp32", "--threads", "1", "--seed", "7", .. more,
    ];

    private static Dictionary<int, double> Losses(string run) =>
        File.ReadLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
            .ToDictionary(r => r.GetProperty("step").GetInt32(), r => r.GetProperty("loss").GetDouble());

    // One process, which must succeed.
    private static CliRun OneProcess(params string[] args)
    {
        var run = ChildProcessCli.RunUnder("", args);
        Assert.True(run.ExitCode == 0, run.Error);
        return run;
    }

    // Ranks under mpirun, which must succeed.
    private static CliRun Ranks(int ranks, params string[] args)
    {
        var run = MpiRun.Run(ranks, args);
        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        return run;
    }

    // A copy of a finished 20-step run as it stood at its checkpoint of step 10 (the later checkpoint is still there, unnamed).
    private static void CopyAtStep10(string run, string copy)
    {
        CopyFolder(run, copy);
        File.WriteAllText(Path.Combine(copy, "checkpoints", "latest"), "step-0000010\n");
    }

    private static string Weights(string run) => Path.Combine(run, "model", "model.safetensors");

    private static IEnumerable<string> FilesOf(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(folder, f)).Order(StringComparer.Ordinal);

    [Fact]
    public void Two_ranks_pretrain_the_same_model_bit_for_bit_as_one_rank_accumulating_two_and_only_rank_0_writes()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string single = _temp.Of("single"), parallel = _temp.Of("parallel");
        OneProcess(Pretrain(data, config, single, accumulation: 2));
        var two = Ranks(2, Pretrain(data, config, parallel, accumulation: 1));

        Assert.Equal(File.ReadAllBytes(Weights(single)), File.ReadAllBytes(Weights(parallel)));
        Assert.Equal(Losses(single).Values, Losses(parallel).Values);
        Assert.Equal(20, Losses(parallel).Count);
        // Rank 0 alone wrote the run: the same files as one process, and one set of progress lines.
        Assert.Equal(FilesOf(single).Where(f => !f.EndsWith("loss.png")), FilesOf(parallel).Where(f => !f.EndsWith("loss.png")));
        Assert.Single(two.Error.Split('\n'), l => l.StartsWith("step      20 "));
        Assert.Contains("batch 4x1x2 ranks, 1 threads per rank", two.Error);
    }

    [Fact]
    public void Two_ranks_pretrain_a_causal_Llama_bit_for_bit_as_one_rank_accumulating_two()
    {
        string tokenizer = _temp.Of("bpe", "tokenizer.json"), data = _temp.Of("causal-data"), config = _temp.Of("llama.json");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--type", "bpe", "--input", TestData.SotuPath, "--vocab-size", "400", "--output", tokenizer).ExitCode);
        Assert.Equal(0, CliRun.Of("data", "prepare", "--objective", "causal", "--tokenizer", tokenizer, "--corpus", TestData.SotuPath, "--output", data,
            "--validation-fraction", "0.1").ExitCode);
        new SharpLM.Model.LlamaConfig
        {
            VocabSize = 400, HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 1,
            MaxPositionEmbeddings = 64, BosTokenId = 0, EosTokenId = 0,
        }.Save(config);
        string single = _temp.Of("single"), parallel = _temp.Of("parallel");
        string[] Causal(string output, int accumulation) => [.. Pretrain(data, config, output, accumulation), "--objective", "causal", "--block-size", "32"];
        OneProcess(Causal(single, accumulation: 2));
        Ranks(2, Causal(parallel, accumulation: 1));
        Assert.Equal(File.ReadAllBytes(Weights(single)), File.ReadAllBytes(Weights(parallel)));
        Assert.Equal(Losses(single).Values, Losses(parallel).Values);
        Assert.Equal(20, Losses(parallel).Count);
    }

    [Fact]
    public void Three_ranks_pretrain_within_1e_6_of_one_rank_accumulating_three()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string single = _temp.Of("single"), parallel = _temp.Of("parallel");
        OneProcess(Pretrain(data, config, single, accumulation: 3));
        Ranks(3, Pretrain(data, config, parallel, accumulation: 1));

        // Three partial sums may be added in another order than one process adds them.
        var expected = Safetensors.LoadStateDict(Weights(single));
        var actual = Safetensors.LoadStateDict(Weights(parallel));
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, tensor) in expected)
            Assert.True((tensor - actual[name]).abs().max().item<float>() <= 1e-6, name);
    }

    [Fact]
    public void Two_ranks_resume_a_one_rank_checkpoint_on_the_same_loss_curve()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string single = _temp.Of("single"), resumed = _temp.Of("resumed");
        OneProcess(Pretrain(data, config, single, accumulation: 2));

        // The one-process run as it stood at its checkpoint of step 10, continued by two ranks with the same global batch.
        CopyAtStep10(single, resumed);
        Directory.Delete(Path.Combine(resumed, "model"), recursive: true);
        Directory.Delete(Path.Combine(resumed, "checkpoints", "step-0000020"), recursive: true);
        var two = Ranks(2, Pretrain(data, config, resumed, accumulation: 1, "--resume"));
        Assert.Contains("resumed from", two.Error);
        Assert.DoesNotContain("examples per step", two.Error);

        Assert.Equal(Losses(single).Values, Losses(resumed).Values);
        Assert.Equal(File.ReadAllBytes(Weights(single)), File.ReadAllBytes(Weights(resumed)));
        // Another global batch continues from the same data, with a warning that it is not the same run.
        string other = _temp.Of("other");
        CopyAtStep10(single, other);
        var changed = OneProcess(Pretrain(data, config, other, accumulation: 1, "--resume"));
        Assert.Contains("was trained with 8 examples per step and this run takes 4", changed.Error);
    }

    [Fact]
    public void Two_ranks_fine_tune_a_classifier_bit_for_bit_as_one_rank_accumulating_two()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("pretrained"), maxPositions: 64);
        // 36 examples in steps of 2 x 4: the last step of each epoch leaves the second micro-batch (rank 1) empty.
        var english = TestData.Lines(TestData.SotuPath).SelectMany(l => l.Split(". ")).Where(s => s.Length > 20).Take(18);
        var chinese = TestData.Lines(TestData.TangPath).Take(18);
        string train = _temp.Write("train.jsonl", string.Join("\n", english.Select(t => JsonSerializer.Serialize(new { text = t, label = "english" }))
            .Concat(chinese.Select(t => JsonSerializer.Serialize(new { text = t, label = "chinese" })))) + "\n");
        string dev = _temp.Write("dev.jsonl", JsonSerializer.Serialize(new { text = "We must cut taxes this year.", label = "english" }) + "\n" +
            JsonSerializer.Serialize(new { text = "床前明月光，疑是地上霜。", label = "chinese" }) + "\n");
        string[] Finetune(string output, int accumulation) =>
            ["finetune", "classify", "--model", model, "--train", train, "--dev", dev, "--output", output, "--epochs", "2", "--batch-size", "4",
             "--grad-accum", accumulation.ToString(), "--lr", "1e-3", "--max-length", "32", "--threads", "1", "--seed", "3"];
        string single = _temp.Of("single"), parallel = _temp.Of("parallel");
        var one = OneProcess(Finetune(single, 2));
        var two = Ranks(2, Finetune(parallel, 1));

        Assert.Contains("step      5/10", one.Error);
        Assert.Equal(File.ReadAllBytes(Path.Combine(single, "model.safetensors")), File.ReadAllBytes(Path.Combine(parallel, "model.safetensors")));
        Assert.Equal(File.ReadAllLines(Path.Combine(single, "metrics.jsonl")).Select(WithoutTimes), File.ReadAllLines(Path.Combine(parallel, "metrics.jsonl")).Select(WithoutTimes));
        Assert.Equal(one.Output, two.Output);
    }

    [Fact]
    public void A_killed_rank_ends_the_run_within_30_seconds_and_leaves_a_valid_latest_checkpoint()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string run = _temp.Of("killed");
        string[] args = ["pretrain", "--data", data, "--config", config, "--output", run, "--batch-size", "4", "--max-steps", "1000000",
            "--log-every", "1", "--eval-every", "0", "--save-every", "5", "--precision", "fp32", "--threads", "1"];
        using var mpirun = MpiRun.Start(2, args);
        var error = new System.Text.StringBuilder();
        mpirun.ErrorDataReceived += (_, line) => { lock (error) error.AppendLine(line.Data); };
        mpirun.OutputDataReceived += (_, _) => { };
        mpirun.BeginErrorReadLine();
        mpirun.BeginOutputReadLine();
        string latest = Path.Combine(run, "checkpoints", "latest");
        var waited = Stopwatch.StartNew();
        while (!(File.Exists(latest) && File.ReadAllText(latest).Trim() == "step-0000010") && waited.Elapsed < TimeSpan.FromMinutes(1) && !mpirun.HasExited)
            Thread.Sleep(20);
        Assert.False(mpirun.HasExited, error.ToString());
        int rank1 = RankProcess(run, 1);
        var clock = Stopwatch.StartNew();
        Process.GetProcessById(rank1).Kill();
        bool ended = mpirun.WaitForExit(TimeSpan.FromSeconds(30));
        if (!ended) mpirun.Kill(entireProcessTree: true);
        Assert.True(ended, $"mpirun still ran 30 s after rank 1 was killed: {error}");
        Assert.NotEqual(0, mpirun.ExitCode);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30));
        CheckpointManifest.Verify(PretrainingTrainer.LatestCheckpoint(run)!);
    }

    [Fact]
    public void A_fault_on_one_rank_ends_every_rank_with_one_message_naming_it()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string run = _temp.Of("run");
        OneProcess(Pretrain(data, config, run, accumulation: 2));
        // A truncated checkpoint: rank 0 reads it alone, while rank 1 waits in the broadcast of its contents.
        string weights = Path.Combine(run, "checkpoints", "step-0000020", "model.safetensors");
        File.WriteAllBytes(weights, File.ReadAllBytes(weights)[..1000]);
        var clock = Stopwatch.StartNew();
        var two = MpiRun.Run(2, TimeSpan.FromSeconds(60), Pretrain(data, config, run, accumulation: 1, "--resume"));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), two.Error);
        Assert.NotEqual(0, two.ExitCode);
        var ours = two.Error.Split('\n').Where(l => l.StartsWith("error: ")).ToList();
        Assert.Single(ours);
        Assert.StartsWith("error: rank 0 of 2: ", ours[0]);
        Assert.Contains("model.safetensors", ours[0]);
        Assert.DoesNotContain("   at ", two.Error);
    }

    [Fact]
    public void Outside_mpirun_the_group_is_one_process_and_needs_no_MPI()
    {
        Assert.False(SharpLM.Distributed.ProcessGroup.LaunchedByMpi);
        var group = SharpLM.Distributed.ProcessGroup.Current;
        Assert.Same(SharpLM.Distributed.ProcessGroup.Single, group);
        Assert.Equal((0, 1), (group.Rank, group.Size));
        double[] values = [1.5, 2];
        group.Sum(values);
        Assert.Equal([1.5, 2], values);
        Assert.True(group.Any(true));
        Assert.Null(SharpLM.Distributed.ProcessGroup.Joined);
    }

    [Fact]
    public void Started_by_mpirun_without_a_loadable_libmpi_it_says_so_and_exits_1()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string missing = _temp.Of("no-such-dir/libmpi.so.40");
        var run = ChildProcessCli.RunUnder($"OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_SIZE=2 SHARPLM_MPI_LIBRARY='{missing}'",
            Pretrain(data, config, _temp.Of("run"), accumulation: 1));
        run.AssertFailsNaming(missing, "this process was started by mpirun, but Open MPI's library could not be loaded");
        Assert.Contains("apt-get install openmpi-bin libopenmpi-dev", run.Error);
        Assert.False(Directory.Exists(_temp.Of("run")));
    }

    // metrics.jsonl without the fields that measure time.
    private static string WithoutTimes(string line)
    {
        var fields = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(line)!;
        foreach (string timed in new[] { "tokens_per_second", "elapsed_seconds", "eta_seconds" }) fields.Remove(timed);
        return JsonSerializer.Serialize(fields);
    }

    // The process of one rank of the run writing to runFolder (its command line names the folder; Open MPI puts the rank in its environment).
    private static int RankProcess(string runFolder, int rank)
    {
        foreach (string proc in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out int pid)) continue;
            try
            {
                if (!File.ReadAllText(Path.Combine(proc, "cmdline")).Contains(runFolder)) continue;
                if (File.ReadAllText(Path.Combine(proc, "environ")).Split('\0').Contains($"OMPI_COMM_WORLD_RANK={rank}")) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        throw new InvalidOperationException($"no process of rank {rank} writes to {runFolder}");
    }

    private static void CopyFolder(string from, string to)
    {
        foreach (string folder in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, folder)));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
