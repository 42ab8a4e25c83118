using System.Diagnostics;
using System.Text;

namespace SharpLM.Data.Cleaning;

/// <summary>Where a cleaning run stands, for progress lines.</summary>
/// <param name="DocumentsIn">Documents read.</param>
/// <param name="DocumentsOut">Documents kept.</param>
/// <param name="BytesIn">UTF-8 bytes read.</param>
/// <param name="Fraction">How far through the input, from 0 to 1 (by files and bytes on disk).</param>
/// <param name="Elapsed">Time since the start.</param>
public readonly record struct CleaningProgress(long DocumentsIn, long DocumentsOut, long BytesIn, double Fraction, TimeSpan Elapsed);

/// <summary>
/// <c>sharplm data clean</c>: one streaming pass over a corpus that drops low-quality documents (the
/// Gopher and C4 rules, <see cref="QualityFilter"/>), exact duplicates (identical normalised words) and
/// near duplicates (MinHash LSH, <see cref="LshIndex"/>), keeping the first document of each cluster, and
/// writes the rest as JSON Lines or Parquet shards with a report, taking checkpoints that a stopped run
/// resumes from (<see cref="CleaningCheckpoint"/>). Documents go through in batches: the rules and
/// signatures of a batch are computed on all threads, then the duplicate decisions are made in corpus
/// order on one, so the output is the same whatever the thread count. Memory holds one batch and the
/// index (the fingerprints and signatures of kept documents), never the corpus.
/// </summary>
public sealed class CorpusCleaner
{
    private const int BatchDocuments = 2048;

    private readonly CleaningOptions _options;
    private readonly QualityFilter _filter;
    private readonly MinHash _minHash;

    /// <summary>Checks the options and prepares the rules and hash functions.</summary>
    public CorpusCleaner(CleaningOptions options)
    {
        _options = options with { Threads = options.Threads > 0 ? options.Threads : Environment.ProcessorCount };
        _filter = new QualityFilter(QualityRule.Select(options.Filters), options.MinWords, options.Language);
        _minHash = new MinHash(options.Permutations, options.Ngram, options.Language);
        _ = new LshIndex(options.Permutations, options.NearDuplicateThreshold, options.Bands); // checks the threshold and bands before any output
    }

    /// <summary>Reports progress every batch.</summary>
    public event Action<CleaningProgress>? Progress;

    /// <summary>Reports each document removed, with the reason (a rule id, <c>exact-duplicate</c> or <c>near-duplicate</c>).</summary>
    public event Action<CorpusText, string>? Removed;

    /// <summary>Reports each near duplicate removed: the document, where the kept document it repeats was read, and the estimated Jaccard similarity.</summary>
    public event Action<CorpusText, CorpusText, double>? NearDuplicate;

    /// <summary>Whether the last run stopped with a checkpoint that <c>--resume</c> can continue from.</summary>
    public bool Resumable { get; private set; }

    /// <summary>
    /// Cleans <paramref name="inputs"/> into <paramref name="output"/> (created; it must not hold anything), or,
    /// with <paramref name="resume"/>, continues a run stopped there from its latest checkpoint: the same inputs
    /// and options give the same shards and report as a run that was never stopped.
    /// </summary>
    public CleaningReport Clean(IReadOnlyList<string> inputs, string output, CancellationToken cancellation = default, bool resume = false)
    {
        var clock = Stopwatch.StartNew();
        var files = CorpusFiles.Expand(inputs);
        var texts = new CorpusTexts(_options.TextField);
        var report = new CleaningReport { Inputs = inputs.ToList(), Files = files.Count, Threads = _options.Threads, Rules = _filter.Rules.Select(r => r.Id).ToList() };
        var exact = new HashSet<UInt128>();
        var index = _options.Deduplication == Deduplication.Near ? new LshIndex(_options.Permutations, _options.NearDuplicateThreshold, _options.Bands) : null;
        var keptSources = new List<(int File, long Position)>();
        var sizes = files.Select(f => new FileInfo(f).Length).ToArray();
        string identity = System.Text.Json.JsonSerializer.Serialize(new
        {
            files = files.Select(Path.GetFullPath),
            sizes,
            options = _options with { Threads = 0, CheckpointSeconds = 0 },
        });
        long skip = 0;
        double previousSeconds = 0;
        List<string>? finished = null;
        if (resume)
        {
            if (!Directory.Exists(output)) throw new InvalidInputException($"{output}: no such folder to resume in.");
            var checkpoint = CleaningCheckpoint.Load(output, exact, keptSources, index)
                ?? throw new InvalidInputException($"{output}: no checkpoint to resume from (one is taken when a shard is finished); delete the folder and start again.");
            if (checkpoint.Identity != identity)
                throw new InvalidInputException($"{output}: the checkpoint was taken with other inputs (or inputs that changed size) or other options; resume with the same, or delete the folder.");
            foreach (string shard in checkpoint.Shards)
                if (!File.Exists(Path.Combine(output, $".{shard}.tmp"))) throw new InvalidInputException($"{output}: the checkpoint's shard {shard} is missing; delete the folder and start again.");
            report = CleaningReport.FromJson(checkpoint.Report);
            (report.Threads, skip, previousSeconds, finished) = (_options.Threads, checkpoint.Position, checkpoint.Seconds, checkpoint.Shards);
        }
        var fileNumbers = new Dictionary<string, int>();
        for (int i = 0; i < files.Count; i++) fileNumbers.TryAdd(files[i], i); // a file named twice is read twice
        long totalSize = Math.Max(1, sizes.Sum());

        using var writer = new CleanedShardWriter(output, _options.ShardBytes, _options.Format, finished);
        var sinceCheckpoint = Stopwatch.StartNew();
        Resumable = finished is not null;

        void Checkpoint()
        {
            CleaningCheckpoint.Save(output, new CleaningCheckpoint
            {
                Identity = identity,
                Position = report.DocumentsIn,
                Shards = writer.Shards.ToList(),
                Seconds = previousSeconds + clock.Elapsed.TotalSeconds,
                Report = report.ToJson(),
            }, exact, keptSources, index);
            writer.Checkpointed();
            sinceCheckpoint.Restart();
            Resumable = true;
        }
        var results = new Processed[BatchDocuments];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.Threads, CancellationToken = cancellation };

        void Flush(List<CorpusText> batch)
        {
            Parallel.For(0, batch.Count, parallel, () => (new uint[_options.Permutations], new ulong[index?.Bands ?? 0]), (i, _, buffers) =>
            {
                results[i] = Process(batch[i].Text, index, buffers.Item1, buffers.Item2);
                return buffers;
            }, _ => { });
            for (int i = 0; i < batch.Count; i++) Decide(batch[i], results[i]);
            Array.Clear(results);

            int started = texts.FilesStarted;
            double done = sizes.Take(Math.Max(0, started - 1)).Sum() + (started > 0 ? sizes[started - 1] * texts.FileFraction : 0);
            Progress?.Invoke(new CleaningProgress(report.DocumentsIn, report.DocumentsOut, report.BytesIn, done / totalSize, clock.Elapsed));
        }

        void Decide(CorpusText text, Processed result)
        {
            report.DocumentsIn++;
            report.BytesIn += result.Bytes;
            if (result.Verdict.LinesRemoved is int[] lines)
                for (int r = 0; r < lines.Length; r++)
                    if (lines[r] > 0) report.LinesRemoved[QualityRule.All[r].Id] = report.LinesRemoved.GetValueOrDefault(QualityRule.All[r].Id) + lines[r];
            string Source() => $"{text.File}:{text.Position}";
            if (result.Verdict.Removed is QualityRule rule)
            {
                Removed?.Invoke(text, rule.Id);
                report.Remove(rule.Id, result.Bytes, () => new RemovalExample(Source(), CleaningReport.Excerpt(text.Text)));
                return;
            }
            if (_options.Deduplication != Deduplication.None && !exact.Add(result.Fingerprint))
            {
                Removed?.Invoke(text, "exact-duplicate");
                report.Remove("exact-duplicate", result.Bytes, () => new RemovalExample(Source(), CleaningReport.Excerpt(text.Text)));
                return;
            }
            if (index is not null && result.HasWords)
            {
                if (index.FindDuplicate(result.Signature, result.BandKeys) is (int kept, double jaccard))
                {
                    var (file, position) = keptSources[kept];
                    NearDuplicate?.Invoke(text, new CorpusText("", files[file], position), jaccard);
                    Removed?.Invoke(text, "near-duplicate");
                    report.Remove("near-duplicate", result.Bytes, () => new RemovalExample(Source(), CleaningReport.Excerpt(text.Text), $"{files[file]}:{position}", Math.Round(jaccard, 3)));
                    return;
                }
                index.Add(result.Signature, result.BandKeys);
                keptSources.Add((fileNumbers[text.File], text.Position));
            }
            if (result.Line is byte[] line) writer.WriteLine(line);
            else writer.Write(result.Verdict.Text);
            report.DocumentsOut++;
            report.BytesOut += result.Verdict.Text.Length == text.Text.Length ? result.Bytes : Encoding.UTF8.GetByteCount(result.Verdict.Text);
            if (!writer.ShardFull) return;
            writer.FinishShard();
            if (sinceCheckpoint.Elapsed.TotalSeconds >= _options.CheckpointSeconds) Checkpoint();
        }

        foreach (var batch in Batches(texts, files, skip, cancellation)) Flush(batch);
        writer.Commit();
        CleaningCheckpoint.Delete(output);
        Resumable = false;

        report.NullRecords = texts.NullRecords;
        report.Shards = writer.Shards.ToList();
        if (index is not null)
            report.NearDuplicateIndex = new LshSummary(_options.Permutations, _options.Ngram, _options.NearDuplicateThreshold, Math.Round(index.Confirmation, 4), index.Bands, index.Rows,
                index.Count, index.CandidatesChecked, Math.Round(index.Bytes / 1048576.0, 1), Math.Round(index.BytesPerDocument));
        report.Seconds = Math.Round(previousSeconds + clock.Elapsed.TotalSeconds, 2);
        report.MegabytesPerSecond = Math.Round(report.BytesIn / 1e6 / Math.Max(1e-9, report.Seconds), 2);
        report.PeakResidentMegabytes = Math.Round(ProcessMemory.PeakResidentMegabytes);
        return report;
    }

    /// <summary>
    /// Batches of documents in corpus order, after the first <c>skip</c>. With more than one thread, a reader thread fills them while the
    /// workers process the previous batch (at most two wait), so reading and decoding overlap the rules and
    /// signatures; with one thread, everything runs on the caller's.
    /// </summary>
    private IEnumerable<List<CorpusText>> Batches(CorpusTexts texts, IReadOnlyList<string> files, long skip, CancellationToken cancellation)
    {
        IEnumerable<List<CorpusText>> Read()
        {
            var batch = new List<CorpusText>(BatchDocuments);
            long seen = 0;
            foreach (var text in texts.Read(files))
            {
                cancellation.ThrowIfCancellationRequested();
                if (seen++ < skip) continue; // decided before the checkpoint a resumed run starts from
                batch.Add(text);
                if (batch.Count == BatchDocuments)
                {
                    yield return batch;
                    batch = new List<CorpusText>(BatchDocuments);
                }
            }
            if (batch.Count > 0) yield return batch;
        }
        if (_options.Threads == 1) return Read();
        return ReadAhead(Read(), cancellation);
    }

    private static IEnumerable<List<CorpusText>> ReadAhead(IEnumerable<List<CorpusText>> batches, CancellationToken cancellation)
    {
        using var queue = new System.Collections.Concurrent.BlockingCollection<List<CorpusText>>(boundedCapacity: 2);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        Exception? failure = null;
        var reader = Task.Run(() =>
        {
            try
            {
                foreach (var batch in batches) queue.Add(batch, stop.Token);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { /* the consumer stopped first */ }
            catch (Exception e) { failure = e; }
            finally { queue.CompleteAdding(); }
        });
        try
        {
            foreach (var batch in queue.GetConsumingEnumerable(cancellation)) yield return batch;
        }
        finally
        {
            stop.Cancel();
            reader.Wait();
        }
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <summary>The per-document work that needs no other document: the rules, the signature and band keys, and the output line.</summary>
    private Processed Process(string text, LshIndex? index, uint[] signatureBuffer, ulong[] keysBuffer)
    {
        int bytes = Encoding.UTF8.GetByteCount(text);
        var verdict = _filter.Apply(text);
        if (verdict.Removed is not null) return new Processed(verdict, bytes, default, false, null, null, null);
        byte[]? line = _options.Format == CleanedFormat.JsonLines ? CleanedShardWriter.Line(verdict.Text) : null;
        if (_options.Deduplication == Deduplication.None) return new Processed(verdict, bytes, default, false, null, null, line);
        bool hasWords = _minHash.Compute(verdict.Text, signatureBuffer, out var fingerprint);
        if (index is null || !hasWords) return new Processed(verdict, bytes, fingerprint, hasWords, null, null, line);
        index.BandKeys(signatureBuffer, keysBuffer);
        return new Processed(verdict, bytes, fingerprint, hasWords, (uint[])signatureBuffer.Clone(), (ulong[])keysBuffer.Clone(), line);
    }

    private readonly record struct Processed(QualityVerdict Verdict, int Bytes, UInt128 Fingerprint, bool HasWords, uint[]? Signature, ulong[]? BandKeys, byte[]? Line);
}
