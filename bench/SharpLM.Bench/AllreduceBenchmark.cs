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

        // The reference: one buffer, one MPI_Allreduce per round, nothing else. The contenders run in the same rounds,
        // one after the other, so that the machine's drift touches them all alike.
        var buffer = new float[floats];
        var contenders = bucketsMb.Select(mb => new DataParallel(group, parameters, (long)(mb * (1 << 20)))).ToList();
        var plain = new List<double>();
        var whole = contenders.Select(_ => new List<double>()).ToList();
        var collectives = contenders.Select(_ => new List<double>()).ToList();
        for (int round = 0; round < rounds + 2; round++)
        {
            double plainSeconds = Timed(group, () => group.Sum(buffer.AsSpan()));
            if (round >= 2) plain.Add(plainSeconds);
            for (int c = 0; c < contenders.Count; c++)
            {
                var before = contenders[c].AllreduceTime;
                double seconds = Timed(group, contenders[c].SumGradients);
                if (round < 2) continue;
                whole[c].Add(seconds);
                collectives[c].Add(MeanOverRanks(group, (contenders[c].AllreduceTime - before).TotalSeconds));
            }
        }
        double plainMedian = Median.Of(plain);
        var results = contenders.Select((parallel, c) => new
        {
            bucket_mb = bucketsMb[c], calls_per_step = parallel.Reductions / (rounds + 2),
            milliseconds = Median.Of(whole[c]) * 1e3, gigabytes_per_second = bytes / Median.Of(whole[c]) / 1e9, share_of_plain = plainMedian / Median.Of(whole[c]),
            allreduce_milliseconds = Median.Of(collectives[c]) * 1e3, allreduce_share_of_plain = plainMedian / Median.Of(collectives[c]),
        }).ToList();
        if (group.IsRoot)
            Console.WriteLine(JsonSerializer.Serialize(new
            {
                ranks = group.Size, preset, vocab, gradient_floats = floats, gradient_megabytes = bytes / (1 << 20),
                plain_allreduce = new { milliseconds = plainMedian * 1e3, gigabytes_per_second = bytes / plainMedian / 1e9 },
                data_parallel = results,
            }));
        return 0;
    }

    // Seconds of one round, every rank starting together; the ranks finish an allreduce together, so their mean is the round's.
    private static double Timed(ProcessGroup group, Action round)
    {
        group.Barrier();
        var clock = Stopwatch.StartNew();
        round();
        return MeanOverRanks(group, clock.Elapsed.TotalSeconds);
    }

    private static double MeanOverRanks(ProcessGroup group, double seconds)
    {
        double[] sum = [seconds];
        group.Sum(sum);
        return sum[0] / group.Size;
    }
}
