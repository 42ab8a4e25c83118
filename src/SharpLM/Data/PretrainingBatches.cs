using SharpLM.Text;

namespace SharpLM.Data;

/// <summary>
/// The examples of one split of a prepared-data folder, served as batches. Training order is a
/// permutation of all examples per epoch drawn from (seed, epoch), and the position in it is one
/// number (examples consumed), so a resumed run sees exactly the batches it would have seen. With
/// dynamic masking (RoBERTa), every example is masked afresh each time it is served, from (seed,
/// position), instead of with the masks stored at preparation.
/// </summary>
public sealed class PretrainingBatches : IDisposable
{
    private readonly List<PretrainingShardReader> _shards = new();
    private readonly long[] _starts;
    private readonly int _seed;
    private readonly MaskedLmMasking? _dynamicMasking;
    private readonly int _padId;
    private int _permutationEpoch = -1;
    private int[] _permutation = [];

    /// <summary>Opens split <paramref name="split"/> ("train" or "validation") of <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidInputException">The folder has no manifest, another vocabulary, or the split is empty.</exception>
    public PretrainingBatches(string folder, string split, Vocabulary vocabulary, int seed, bool dynamicMasking = false)
    {
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
        if (dynamicMasking)
            _dynamicMasking = new MaskedLmMasking(vocabulary, Manifest.Options.MaskedLmProb, Manifest.Options.MaxPredictions, Manifest.Options.WholeWordMask);
    }

    /// <summary>The data folder's manifest.</summary>
    public PretrainingDataManifest Manifest { get; }

    /// <summary>Examples in the split.</summary>
    public long Count { get; }

    /// <summary>The training batch that starts at <paramref name="position"/> (examples consumed so far, across epochs).</summary>
    public PretrainingBatch TrainingBatch(long position, int batchSize)
    {
        var examples = new List<PretrainingExample>(batchSize);
        for (long p = position; p < position + batchSize; p++)
        {
            int epoch = (int)(p / Count);
            if (epoch != _permutationEpoch) Permute(epoch);
            var example = Example(_permutation[p % Count]);
            if (_dynamicMasking is not null)
                example = example with { Masked = _dynamicMasking.Mask(example.Ids, new Random(StableSeed.Of(_seed, p))) };
            examples.Add(example);
        }
        return new PretrainingBatch(examples, _padId);
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
        int shard = Array.BinarySearch(_starts, index);
        if (shard < 0) shard = ~shard - 1;
        return _shards[shard].Read((int)(index - _starts[shard]));
    }

    private void Permute(int epoch)
    {
        _permutation = Enumerable.Range(0, (int)Count).ToArray();
        new Random(StableSeed.Of(_seed, epoch, 0x0BE7)).Shuffle(_permutation);
        _permutationEpoch = epoch;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var shard in _shards) shard.Dispose();
    }
}
