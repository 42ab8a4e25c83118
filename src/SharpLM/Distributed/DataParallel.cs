using System.Diagnostics;
using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Distributed;

/// <summary>
/// Data-parallel training over a <see cref="ProcessGroup"/>, as PyTorch's DistributedDataParallel and Horovod do it:
/// every rank holds the whole model, starts from rank 0's weights, trains on its own micro-batches, and before
/// each update the gradients are summed over the ranks, so that every rank takes the same step. Gradients of at
/// least <see cref="DirectBytes"/> are reduced in place where they lie; the small ones (biases, LayerNorm, small
/// matrices) are flattened into buckets of about <see cref="DefaultBucketBytes"/>, reduced, and copied back, so
/// that a model's hundreds of small tensors cost a few calls, and its large ones no copy. The gradients
/// are summed, not averaged: the trainers divide each loss by the whole step's count (examples, masked tokens),
/// which makes N ranks the same arithmetic as one rank accumulating N times as many micro-batches.
/// </summary>
public sealed class DataParallel
{
    /// <summary>PyTorch DDP's default bucket: large enough that per-call latency vanishes, small enough to stay in cache-sized pieces.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    /// <summary>
    /// Gradients this large are their own bucket, reduced without a copy: above it one call's latency is a small part
    /// of its transfer, while copying into a bucket and back would double the memory traffic (measured in docs/distributed.md).
    /// </summary>
    public const long DirectBytes = 1L << 20;

    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly long _bucketElements;
    private readonly Stopwatch _communication = new();
    private readonly Stopwatch _collectives = new();
    private List<Bucket>? _buckets;
    private bool[] _present = [];

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

    /// <summary>The part of <see cref="CommunicationTime"/> spent in MPI_Allreduce itself.</summary>
    public TimeSpan AllreduceTime => _collectives.Elapsed;

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
            var gradients = _parameters.Select(p => p.grad).ToList();
            foreach (var bucket in BucketsFor(gradients))
            {
                if (bucket.Buffer is null)
                {
                    var gradient = gradients[bucket.Members[0]]!;
                    Reduce(gradient);
                }
                else
                {
                    // One native call per gradient each way: the buffer's views are made with the bucket.
                    for (int m = 0; m < bucket.Members.Length; m++) bucket.Views[m].copy_(gradients[bucket.Members[m]]!);
                    Reduce(bucket.Buffer);
                    for (int m = 0; m < bucket.Members.Length; m++) gradients[bucket.Members[m]]!.copy_(bucket.Views[m]);
                }
                Reductions++;
            }
        }
        finally { _communication.Stop(); }
    }

    private void Reduce(Tensor values)
    {
        _collectives.Start();
        Group.Sum(MemoryMarshal.Cast<byte, float>(values.bytes));
        _collectives.Stop();
    }

    // The buckets of the parameters that have gradients, made once and kept, so that their buffers are not
    // allocated (and their pages faulted in) at every step; made again if the set of gradients changes.
    private List<Bucket> BucketsFor(List<Tensor?> gradients)
    {
        bool[] present = gradients.Select(g => g is not null).ToArray();
        if (_buckets is not null && present.AsSpan().SequenceEqual(_present)) return _buckets;
        foreach (var old in _buckets ?? [])
        {
            foreach (var view in old.Views) view.Dispose();
            old.Buffer?.Dispose();
        }
        var buckets = new List<Bucket>();
        var members = new List<int>();
        long elements = 0;
        void Close()
        {
            if (members.Count == 0) return;
            var buffer = zeros(elements, dtype: ScalarType.Float32).DetachFromDisposeScope();
            var views = new Tensor[members.Count];
            long offset = 0;
            for (int m = 0; m < members.Count; m++)
            {
                var gradient = gradients[members[m]]!;
                views[m] = buffer.narrow(0, offset, gradient.numel()).view(gradient.shape).DetachFromDisposeScope();
                offset += gradient.numel();
            }
            buckets.Add(new Bucket(members.ToArray(), buffer, views));
            members.Clear();
            elements = 0;
        }
        for (int i = 0; i < gradients.Count; i++)
        {
            if (gradients[i] is not { } gradient) continue;
            if (gradient.dtype != ScalarType.Float32)
                throw new InvalidOperationException("data-parallel training sums float32 gradients; a gradient has another type.");
            if (gradient.numel() * sizeof(float) >= DirectBytes && gradient.is_contiguous())
            {
                buckets.Add(new Bucket([i], null, []));
                continue;
            }
            if (elements > 0 && elements + gradient.numel() > _bucketElements) Close();
            members.Add(i);
            elements += gradient.numel();
        }
        Close();
        _present = present;
        return _buckets = buckets;
    }

    // A large gradient alone (no buffer), or small ones flattened into a buffer of their total size, with a view of the
    // buffer shaped as each.
    private sealed record Bucket(int[] Members, Tensor? Buffer, Tensor[] Views);
}
