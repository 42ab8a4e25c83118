using SharpLM.Text;

namespace SharpLM.Data;

/// <summary>
/// The examples of one split of a prepared-data folder, served as batches. Training order is a
/// permutation of all examples per epoch drawn from (seed, epoch), and the position in it is one
/// number (examples consumed), so a resumed run sees exactly the batches it would have seen. With
/// dynamic masking (RoBERTa), every example is masked afresh each time it is served, from (seed,
/// position), instead of with the masks stored at preparation. With length grouping, each epoch's
/// order is arranged so that a batch holds examples of similar length: less of it is padding.
/// </summary>
public sealed class PretrainingBatches : IPretrainingData, IDisposable
{
    private readonly List<PretrainingShardReader> _shards = new();
    private readonly long[] _starts;
    private readonly int _seed;
    private readonly MaskedLmMasking? _dynamicMasking;
    private readonly int _padId;
    private readonly int _groupedBatchSize;
    private int[]? _lengths;
    private int _permutationEpoch = -1;
    private int[] _permutation = [];

    /// <summary>Opens split <paramref name="split"/> ("train" or "validation") of <paramref name="folder"/>.</summary>
    /// <param name="folder">A folder made by <see cref="PretrainingDataWriter"/>.</param>
    /// <param name="split">"train" or "validation".</param>
    /// <param name="vocabulary">The vocabulary the data was prepared with (checked by hash).</param>
    /// <param name="seed">Seed of the training order and of dynamic masks.</param>
    /// <param name="dynamicMasking">Mask each example afresh every time it is served.</param>
    /// <param name="lengthGroupedBatchSize">
    /// When positive, the training order comes in batches of this size whose examples have similar
    /// lengths (as Hugging Face's group_by_length): each epoch's shuffled order is cut into windows of
    /// 64 batches, each window is sorted by length and cut into batches, and the batches of the epoch
    /// are shuffled. Every example is still served once per epoch.
    /// </param>
    /// <exception cref="InvalidInputException">The folder has no manifest, another vocabulary, or the split is empty.</exception>
    public PretrainingBatches(string folder, string split, Vocabulary vocabulary, int seed, bool dynamicMasking = false, int lengthGroupedBatchSize = 0)
    {
        _groupedBatchSize = lengthGroupedBatchSize;
        Manifest = PretrainingDataManifest.Load(folder);
        if (Manifest.VocabHash != vocabulary.Hash())
            throw new InvalidInputException($"{folder}: the data was prepared with another vocabulary (hash {Manifest.VocabHash}, this one {vocabulary.Hash()}); prepare it again with this vocab.txt.");
        var starts = new List<long>();
        long total = 0;
        foreach (var entry in Manifest.Shards.Where(s => s.Split == split))
        {
            string path = Path.Combine(folder, entry.File);
            if (!File.Exists(path)) throw new InvalidInputException($"{path}: shard listed in the manifest is missing.");
            var reader = new PretrainingShardReader(path, Manifest.Options.MaxSeqLength, Manifest.Options.MaxPredictions);
            if (reader.Count != entry.Examples) throw new InvalidInputException($"{path}: holds {reader.Count} examples, the manifest says {entry.Examples}.");
            _shards.Add(reader);
            starts.Add(total);
            total += reader.Count;
        }
        _starts = starts.ToArray();
        Count = total;
        _seed = seed;
        _padId = Math.Max(vocabulary.PadId, 0);
        UnknownId = vocabulary.UnknownId;
        if (dynamicMasking)
            _dynamicMasking = new MaskedLmMasking(vocabulary, Manifest.Options.MaskedLmProb, Manifest.Options.MaxPredictions, Manifest.Options.WholeWordMask, Manifest.Options.MaskTokenShare);
    }

    /// <summary>The data folder's manifest.</summary>
    public PretrainingDataManifest Manifest { get; }

    /// <summary>Examples in the split.</summary>
    public long Count { get; }

    /// <summary>Id of [UNK] in the data's vocabulary (-1 if it has none): labels that say little about the language.</summary>
    public int UnknownId { get; }

    /// <summary>Whether the examples carry next-sentence labels (false for data prepared with --no-nsp).</summary>
    public bool NextSentence => Manifest.Options.NextSentence;

    /// <summary>The training batch that starts at <paramref name="position"/> (examples consumed so far, across epochs).</summary>
    public PretrainingBatch TrainingBatch(long position, int batchSize)
    {
        var examples = new List<PretrainingExample>(batchSize);
        for (long p = position; p < position + batchSize; p++)
        {
            var example = Example(IndexAt(p));
            if (_dynamicMasking is not null)
                example = example with { Masked = _dynamicMasking.Mask(example.Ids, new Random(StableSeed.Of(_seed, p))) };
            examples.Add(example);
        }
        return new PretrainingBatch(examples, _padId);
    }

    /// <summary>The stored index of the example served at training position <paramref name="position"/>.</summary>
    internal int IndexAt(long position)
    {
        int epoch = (int)(position / Count);
        if (epoch != _permutationEpoch) Permute(epoch);
        return _permutation[position % Count];
    }

    /// <summary>Every example in stored order, in batches (for evaluation).</summary>
    public IEnumerable<PretrainingBatch> InOrder(int batchSize)
    {
        for (long start = 0; start < Count; start += batchSize)
        {
            var examples = new List<PretrainingExample>();
            for (long i = start; i < Math.Min(Count, start + batchSize); i++) examples.Add(Example(i));
            yield return new PretrainingBatch(examples, _padId);
        }
    }

    private PretrainingExample Example(long index)
    {
        int shard = ShardOf(index);
        return _shards[shard].Read((int)(index - _starts[shard]));
    }

    private int ShardOf(long index)
    {
        int shard = Array.BinarySearch(_starts, index);
        return shard < 0 ? ~shard - 1 : shard;
    }

    private void Permute(int epoch)
    {
        _permutation = Enumerable.Range(0, (int)Count).ToArray();
        var random = new Random(StableSeed.Of(_seed, epoch, 0x0BE7));
        random.Shuffle(_permutation);
        if (_groupedBatchSize > 1) GroupByLength(random);
        _permutationEpoch = epoch;
    }

    private void GroupByLength(Random random)
    {
        _lengths ??= Enumerable.Range(0, (int)Count).Select(i => Length(i)).ToArray();
        int batch = _groupedBatchSize, window = 64 * batch;
        for (int start = 0; start < _permutation.Length; start += window)
        {
            int size = Math.Min(window, _permutation.Length - start);
            // Longest first within the window; ties keep the shuffled order (a stable sort), so the seed decides.
            var sorted = _permutation.AsSpan(start, size).ToArray().OrderByDescending(i => _lengths[i]).ToArray();
            sorted.CopyTo(_permutation, start);
        }
        // Shuffle whole batches (a short last batch stays last), so lengths do not cycle long to short.
        int whole = _permutation.Length / batch;
        var order = Enumerable.Range(0, whole).ToArray();
        random.Shuffle(order);
        var grouped = new int[_permutation.Length];
        for (int b = 0; b < whole; b++) Array.Copy(_permutation, order[b] * batch, grouped, b * batch, batch);
        Array.Copy(_permutation, whole * batch, grouped, whole * batch, _permutation.Length - whole * batch);
        _permutation = grouped;
    }

    private int Length(long index)
    {
        int shard = ShardOf(index);
        return _shards[shard].LengthOf((int)(index - _starts[shard]));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var shard in _shards) shard.Dispose();
    }
}
