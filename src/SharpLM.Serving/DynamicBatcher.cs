using System.Diagnostics;
using System.Threading.Channels;

namespace SharpLM.Serving;

/// <summary>
/// One model's inference queue. Requests put their texts in; one worker thread takes everything waiting (and, when
/// that is less than a full batch, what arrives within a few milliseconds more), groups it by operation, sorts each
/// group by length and runs it in padded batches of at most <c>maxBatchTokens</c> positions, of texts of similar length. So a lone request waits
/// at most the window, and under load every model call carries many requests' texts: throughput grows with load, as
/// in text-embeddings-inference's continuous batching. The model is only ever called from the worker thread.
/// </summary>
public sealed class DynamicBatcher : IDisposable
{
    private readonly Channel<BatchJob> _queue = Channel.CreateUnbounded<BatchJob>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Thread _worker;
    private readonly int _maxBatchTokens;
    private readonly long _windowTicks;
    private const double MaxLengthRatio = 1.5;
    private long _calls, _texts, _paddedPositions;

    /// <summary>Starts the worker thread.</summary>
    /// <param name="name">Names the thread (the model's name).</param>
    /// <param name="maxBatchTokens">Cap on a batch's padded positions (texts × longest text).</param>
    /// <param name="window">How long a batch that is not full waits for more texts.</param>
    public DynamicBatcher(string name, int maxBatchTokens, TimeSpan window)
    {
        _maxBatchTokens = maxBatchTokens;
        _windowTicks = (long)(window.TotalSeconds * Stopwatch.Frequency);
        _worker = new Thread(Work) { Name = $"sharplm-batcher-{name}", IsBackground = true };
        _worker.Start();
    }

    /// <summary>Model calls made, texts run, and padded positions computed so far.</summary>
    public BatchInfo Counts => new(Interlocked.Read(ref _calls), Interlocked.Read(ref _texts), Interlocked.Read(ref _paddedPositions));

    /// <summary>Queues one text (of <paramref name="tokens"/> tokens) for <paramref name="operation"/>; completes with its result.</summary>
    public Task<TOut> Run<TIn, TOut>(BatchOperation<TIn, TOut> operation, TIn input, int tokens)
    {
        var job = new BatchJob<TIn, TOut>(operation, input, Math.Max(1, tokens));
        if (!_queue.Writer.TryWrite(job)) throw new ApiError(503, "Unhealthy", "the server is shutting down.");
        return job.Done.Task;
    }

    private void Work()
    {
        var reader = _queue.Reader;
        var jobs = new List<BatchJob>();
        while (reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
        {
            long tokens = 0, deadline = Stopwatch.GetTimestamp() + _windowTicks;
            while (true)
            {
                while (tokens < _maxBatchTokens && reader.TryRead(out var job))
                {
                    jobs.Add(job);
                    tokens += job.Tokens;
                }
                if (tokens >= _maxBatchTokens || Stopwatch.GetTimestamp() >= deadline) break;
                Thread.Sleep(1);
            }
            foreach (var group in jobs.GroupBy(j => j.Operation)) RunGroup(group.OrderBy(j => j.Tokens).ToList());
            jobs.Clear();
        }
    }

    // Sorted by length, cut where the next text would take the padded batch over the cap, or would be more than
    // 1.5 times as long as the batch's shortest: padding 12-token sentences to 64 cost more than batching them saved
    // (all-MiniLM-L6-v2 here: 32 mixed sentences in one call 95 sentences/s, cut this way 176, one at a time 79).
    private void RunGroup(List<BatchJob> sorted)
    {
        int from = 0;
        while (from < sorted.Count)
        {
            int count = 1;
            while (from + count < sorted.Count && (long)(count + 1) * sorted[from + count].Tokens <= _maxBatchTokens
                   && sorted[from + count].Tokens <= MaxLengthRatio * sorted[from].Tokens) count++;
            var batch = sorted.GetRange(from, count);
            Interlocked.Increment(ref _calls);
            Interlocked.Add(ref _texts, count);
            Interlocked.Add(ref _paddedPositions, (long)count * batch[^1].Tokens);
            batch[0].Operation.Execute(batch);
            from += count;
        }
    }

    /// <summary>Stops taking texts; the worker finishes what is queued, then ends.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _worker.Join();
    }
}

/// <summary>An operation the batcher runs on many inputs at once: a pipeline's batch call.</summary>
public abstract class BatchOperation
{
    internal abstract void Execute(List<BatchJob> jobs);
}

/// <summary>A batch call from inputs to one result each, in order.</summary>
public sealed class BatchOperation<TIn, TOut>(Func<IReadOnlyList<TIn>, IReadOnlyList<TOut>> run) : BatchOperation
{
    internal override void Execute(List<BatchJob> jobs)
    {
        var typed = jobs.Cast<BatchJob<TIn, TOut>>().ToList();
        try
        {
            var results = run(typed.Select(j => j.Input).ToList());
            for (int i = 0; i < typed.Count; i++) typed[i].Done.TrySetResult(results[i]);
        }
        catch (Exception e)
        {
            foreach (var job in typed) job.Done.TrySetException(e);
        }
    }
}

internal abstract class BatchJob(BatchOperation operation, int tokens)
{
    public BatchOperation Operation { get; } = operation;
    public int Tokens { get; } = tokens;
}

internal sealed class BatchJob<TIn, TOut>(BatchOperation<TIn, TOut> operation, TIn input, int tokens) : BatchJob(operation, tokens)
{
    public TIn Input { get; } = input;
    public TaskCompletionSource<TOut> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}
