using System.IO.MemoryMappedFiles;
using SharpLM.Text;

namespace SharpLM.Data;

/// <summary>
/// One split of causal-LM data served as windows of <c>length</c> consecutive tokens (documents run on across the
/// end-of-text tokens, as in GPT-2's and nanoGPT's training): window i is tokens i·length .. i·length + length - 1,
/// the few tokens after the last whole window unused. Training order is a permutation of the windows per epoch drawn
/// from (seed, epoch), and the position in it is one number, so a resumed run sees the same batches. The stream is
/// memory-mapped, so a corpus larger than memory trains as well.
/// </summary>
public sealed class CausalTokenWindows : IPretrainingData, IDisposable
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _tokens;
    private readonly bool _owner;
    private readonly int _length;
    private readonly int _seed;
    private int _permutationEpoch = -1;
    private int[] _permutation = [];

    /// <summary>Opens split <paramref name="split"/> ("train" or "validation") of a folder <see cref="CausalDataWriter"/> made.</summary>
    /// <exception cref="InvalidInputException">The folder was made with another tokenizer, or a file is missing or cut short.</exception>
    public CausalTokenWindows(string folder, string split, ByteLevelBpeTokenizer tokenizer, int length, int seed)
    {
        Manifest = CausalDataManifest.Load(folder);
        if (Manifest.TokenizerHash != tokenizer.Hash())
            throw new InvalidInputException($"{folder}: the data was prepared with another tokenizer (hash {Manifest.TokenizerHash}, this one {tokenizer.Hash()}); prepare it again with this tokenizer.json.");
        if (length < 2) throw new InvalidInputException($"--max-seq-length {length}: a window needs at least 2 tokens.");
        string path = Path.Combine(folder, CausalDataWriter.StreamFile(split));
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: the {split} token stream is missing.");
        long expected = split == "train" ? Manifest.TrainTokens : Manifest.ValidationTokens;
        long size = new FileInfo(path).Length;
        if (size != expected * 4) throw new InvalidInputException($"{path}: holds {size} bytes, the manifest says {expected} tokens ({expected * 4} bytes); the file is cut short or another one.");
        if (size > 0)
        {
            _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            _tokens = _file.CreateViewAccessor(0, size, MemoryMappedFileAccess.Read);
        }
        _owner = true;
        _length = length;
        _seed = seed;
        Count = expected / length;
    }

    private CausalTokenWindows(CausalTokenWindows whole, long count)
    {
        (_file, _tokens, _length, _seed, Manifest) = (whole._file, whole._tokens, whole._length, whole._seed, whole.Manifest);
        Count = count;
    }

    /// <summary>The first <paramref name="count"/> windows of this split (all of them when 0 or more than there are); it reads this one's mapping, so dispose this one last.</summary>
    public CausalTokenWindows First(long count) => count <= 0 || count >= Count ? this : new CausalTokenWindows(this, count);

    /// <summary>The data folder's manifest.</summary>
    public CausalDataManifest Manifest { get; }

    /// <summary>Tokens per window.</summary>
    public int Length => _length;

    /// <summary>Whole windows in the split.</summary>
    public long Count { get; }

    /// <inheritdoc/>
    public bool NextSentence => false;

    /// <inheritdoc/>
    public PretrainingBatch TrainingBatch(long position, int batchSize)
    {
        var examples = new List<PretrainingExample>(batchSize);
        for (long p = position; p < position + batchSize; p++) examples.Add(Window(IndexAt(p)));
        return new PretrainingBatch(examples, padId: 0);
    }

    /// <inheritdoc/>
    public IEnumerable<PretrainingBatch> InOrder(int batchSize)
    {
        for (long start = 0; start < Count; start += batchSize)
        {
            var examples = new List<PretrainingExample>();
            for (long i = start; i < Math.Min(Count, start + batchSize); i++) examples.Add(Window(i));
            yield return new PretrainingBatch(examples, padId: 0);
        }
    }

    private static readonly MaskedPositions NoMasks = new([], [], []);

    private PretrainingExample Window(long index)
    {
        var ids = new int[_length];
        _tokens!.ReadArray(index * _length * sizeof(int), ids, 0, _length);
        return new(ids, _length, false, NoMasks);
    }

    private long IndexAt(long position)
    {
        int epoch = (int)(position / Count);
        if (epoch != _permutationEpoch)
        {
            _permutation = Enumerable.Range(0, (int)Count).ToArray();
            new Random(StableSeed.Of(_seed, epoch, 0x0BE7)).Shuffle(_permutation);
            _permutationEpoch = epoch;
        }
        return _permutation[position % Count];
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_owner) return;
        _tokens?.Dispose();
        _file?.Dispose();
    }
}
