using System.Diagnostics;
using System.Text.Json;
using SharpLM.Distributed;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Bench;

/// <summary>
/// Run under <c>mpirun -np N</c>: the cost of summing one step's gradients of a model over the ranks. A plain loop of
/// in-place MPI_Allreduce on one buffer of the gradients' size (what Open MPI's osu_allreduce measures) against
/// <see cref="DataParallel.SumGradients"/> on the model's real gradients (flatten into buckets, reduce, copy back) at
/// several bucket sizes. Rank 0 prints one JSON line.
/// </summary>
public static class AllreduceBenchmark
{
    public static int Run(string[] args)
    {
        string preset = "mini";
        int vocab = 30522, rounds = 20;
        double[] bucketsMb = [1, 4, 25, 100];
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--preset": preset = args[i + 1]; break;
                case "--vocab": vocab = int.Parse(args[i + 1]); break;
                case "--rounds": rounds = int.Parse(args[i + 1]); break;
                case "--buckets-mb": bucketsMb = args[i + 1].Split(',').Select(double.Parse).ToArray(); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        var group = ProcessGroup.Current;
        if (!group.IsDistributed)
        {
            Console.Error.WriteLine("run it under mpirun with at least two ranks (bench/distributed.sh does)");
            return 2;
        }
        set_num_threads(1);
        random.manual_seed(1);
        using var model = new BertForPreTraining(BertConfig.Preset(preset, vocab));
        var parameters = model.parameters().ToList();
        using (var sum = parameters.Select(p => p.sum()).Aggregate((a, b) => a + b)) sum.backward();
        long floats = parameters.Sum(p => p.numel());
        double bytes = floats * 4.0;

        // The reference: one buffer, one MPI_Allreduce per round, nothing else.
        var buffer = new float[floats];
        double plain = TimePerRound(group, rounds, () => group.Sum(buffer.AsSpan()));
        var results = new List<object>();
        foreach (double mb in bucketsMb)
        {
            var parallel = new DataParallel(group, parameters, (long)(mb * (1 << 20)));
            double seconds = TimePerRound(group, rounds, parallel.SumGradients);
            results.Add(new { bucket_mb = mb, milliseconds = seconds * 1e3, reductions_per_step = parallel.Reductions / (rounds + 2), gigabytes_per_second = bytes / seconds / 1e9, share_of_plain = plain / seconds });
        }
        if (group.IsRoot)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                ranks = group.Size, preset, vocab, gradient_floats = floats, gradient_megabytes = bytes / (1 << 20),
                plain_allreduce = new { milliseconds = plain * 1e3, gigabytes_per_second = bytes / plain / 1e9 },
                data_parallel = results,
            }));
        return 0;
    }

    // Median seconds per round after two warm-up rounds, every round started together.
    private static double TimePerRound(ProcessGroup group, int rounds, Action round)
    {
        var times = new List<double>();
        for (int i = 0; i < rounds + 2; i++)
        {
            group.Barrier();
            var clock = Stopwatch.StartNew();
            round();
            // The ranks finish an allreduce together: their mean time is the round's.
            double[] elapsed = [clock.Elapsed.TotalSeconds];
            group.Sum(elapsed);
            if (i >= 2) times.Add(elapsed[0] / group.Size);
        }
        return Median.Of(times);
    }
}
