using System.Diagnostics;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Distributed;

/// <summary>
/// Data-parallel training over a <see cref="ProcessGroup"/>, as PyTorch's DistributedDataParallel and Horovod do it:
/// every rank holds the whole model, starts from rank 0's weights, trains on its own micro-batches, and before
/// each update the gradients are summed over the ranks, flattened into buckets of about
/// <see cref="DefaultBucketBytes"/> and reduced in place, so that every rank takes the same step. The gradients
/// are summed, not averaged: the trainers divide each loss by the whole step's count (examples, masked tokens),
/// which makes N ranks the same arithmetic as one rank accumulating N times as many micro-batches.
/// </summary>
public sealed class DataParallel
{
    /// <summary>PyTorch DDP's default bucket: large enough that per-call latency vanishes, small enough to stay in cache-sized pieces.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly long _bucketElements;
    private readonly Stopwatch _communication = new();

    /// <summary>Data parallelism of <paramref name="parameters"/> over <paramref name="group"/>.</summary>
    public DataParallel(ProcessGroup group, IReadOnlyList<Parameter> parameters, long bucketBytes = DefaultBucketBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, 4L);
        Group = group;
        _parameters = parameters;
        _bucketElements = bucketBytes / sizeof(float);
    }

    /// <summary>The processes of the run.</summary>
    public ProcessGroup Group { get; }

    /// <summary>Time spent summing gradients over the ranks (flattening, the allreduce and copying back), for the benchmark.</summary>
    public TimeSpan CommunicationTime => _communication.Elapsed;

    /// <summary>Gradient allreduce calls made so far.</summary>
    public int Reductions { get; private set; }

    /// <summary>Gives every rank rank 0's parameter values: the start of a run and of a resume.</summary>
    public void BroadcastParameters()
    {
        if (!Group.IsDistributed) return;
        using var _ = no_grad();
        foreach (var parameter in _parameters)
        {
            if (!parameter.is_contiguous()) throw new InvalidOperationException("a parameter is not contiguous; it cannot be broadcast in place.");
            Group.Broadcast(parameter.bytes);
        }
    }

    /// <summary>
    /// Sums the gradients over the ranks, bucket by bucket, and writes the sums back. Parameters without a gradient
    /// are left out; they are the same on every rank, because every rank runs the same graph.
    /// </summary>
    public void SumGradients()
    {
        if (!Group.IsDistributed) return;
        _communication.Start();
        try
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var bucket = new List<Tensor>();
            long elements = 0;
            foreach (var parameter in _parameters)
            {
                if (parameter.grad is not { } gradient) continue;
                if (elements > 0 && elements + gradient.numel() > _bucketElements)
                {
                    Reduce(bucket);
                    bucket.Clear();
                    elements = 0;
                }
                bucket.Add(gradient);
                elements += gradient.numel();
            }
            if (bucket.Count > 0) Reduce(bucket);
        }
        finally { _communication.Stop(); }
    }

    private void Reduce(List<Tensor> gradients)
    {
        if (gradients.Any(g => g.dtype != ScalarType.Float32))
            throw new InvalidOperationException("data-parallel training sums float32 gradients; a gradient has another type.");
        using var flat = cat(gradients.Select(g => g.reshape(-1)).ToList(), 0);
        Group.Sum(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(flat.bytes));
        Reductions++;
        long offset = 0;
        foreach (var gradient in gradients)
        {
            long n = gradient.numel();
            gradient.copy_(flat.narrow(0, offset, n).view_as(gradient));
            offset += n;
        }
    }
}
