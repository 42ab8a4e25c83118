using System.Runtime.InteropServices;
using SharpLM.Text;

namespace SharpLM.Data;

/// <summary>
/// Turns a corpus into pretraining shards (<c>sharplm data prepare</c>), streamed: documents are read,
/// tokenised and assigned to the train or validation split (by document, at random with the seed),
/// gathered into a buffer of about <see cref="PretrainingDataOptions.BufferTokens"/> tokens per split;
/// each full buffer is shuffled, cut into NSP pairs <see cref="PretrainingDataOptions.DupeFactor"/> times,
/// masked, shuffled again and appended to the split's shards. Memory holds one buffer per split and the
/// examples made from it, whatever the size of the corpus. Random "next sentences" come from the same
/// buffer and split, so validation text never leaks into training.
/// </summary>
public sealed class PretrainingDataWriter
{
    private readonly BertTokenizer _tokenizer;
    private readonly PretrainingDataOptions _options;
    private readonly Random _random;
    private readonly NextSentencePairs _pairs;
    private readonly MaskedLmMasking _masking;

    /// <summary>Creates the writer.</summary>
    public PretrainingDataWriter(BertTokenizer tokenizer, PretrainingDataOptions options)
    {
        _tokenizer = tokenizer;
        _options = options.Validate();
        _random = new Random(options.Seed);
        _pairs = new NextSentencePairs(options.MaxSeqLength, options.ShortSeqProb, options.NextSentence, _random);
        _masking = new MaskedLmMasking(tokenizer.Vocabulary, options.MaskedLmProb, options.MaxPredictions, options.WholeWordMask, options.MaskTokenShare);
    }

    /// <summary>Reports progress: documents read so far and examples written so far.</summary>
    public event Action<long, long>? Progress;

    /// <summary>Most tokens held in one buffer at any time (for the streaming check).</summary>
    public long PeakBufferedTokens { get; private set; }

    /// <summary>Prepares <paramref name="corpus"/> into <paramref name="folder"/>, which must not exist or be empty.</summary>
    /// <param name="corpus">Files and folders in any format <see cref="CorpusTexts"/> reads.</param>
    /// <param name="folder">The output folder.</param>
    /// <param name="textField">The JSON Lines field or Parquet column holding the text.</param>
    public PretrainingDataManifest Write(IEnumerable<string> corpus, string folder, string textField = "text")
    {
        if (Directory.Exists(folder) && Directory.EnumerateFileSystemEntries(folder).Any())
            throw new InvalidInputException($"{folder}: the output folder exists and is not empty; choose another --output or delete it.");
        Directory.CreateDirectory(folder);
        var documents = new CorpusDocuments(textField);
        var splitRandom = new Random(_options.Seed ^ 0x5EED);
        var train = new Split("train", folder, _options);
        var validation = new Split("validation", folder, _options);
        long read = 0;
        foreach (var document in documents.Read(corpus))
        {
            var sentences = new List<int[]>(document.Count);
            var ids = new List<int>();
            foreach (string sentence in document)
            {
                ids.Clear();
                _tokenizer.AppendIds(sentence, ids);
                if (ids.Count > 0) sentences.Add(ids.ToArray());
            }
            if (sentences.Count == 0) continue;
            var split = splitRandom.NextDouble() < _options.ValidationFraction ? validation : train;
            split.Buffer.Add(sentences);
            split.BufferedTokens += sentences.Sum(s => s.Length);
            split.Documents++;
            PeakBufferedTokens = Math.Max(PeakBufferedTokens, split.BufferedTokens);
            if (split.BufferedTokens >= _options.BufferTokens) Flush(split);
            if (++read % 10_000 == 0) Progress?.Invoke(read, train.Examples + validation.Examples);
        }
        Flush(train);
        Flush(validation);
        train.Close();
        validation.Close();
        if (train.Examples == 0) throw new InvalidInputException($"{string.Join(", ", corpus)}: no training example could be made; the corpus is too small.");
        Progress?.Invoke(read, train.Examples + validation.Examples);

        var vocabulary = _tokenizer.Vocabulary;
        // The vocabulary travels with the data, so that training needs only --data.
        vocabulary.Save(Path.Combine(folder, "vocab.txt"));
        var manifest = new PretrainingDataManifest(
            PretrainingDataManifest.CurrentFormat, _options, _tokenizer.Lowercase, vocabulary.Hash(), vocabulary.Count,
            PretrainingShard.RecordBytes(_options.MaxSeqLength, _options.MaxPredictions),
            train.Documents, validation.Documents, train.Examples, validation.Examples, documents.DuplicatesDropped,
            train.Shards.Concat(validation.Shards).ToList());
        manifest.Save(folder);
        return manifest;
    }

    private void Flush(Split split)
    {
        if (split.Buffer.Count == 0) return;
        var buffer = split.Buffer;
        _random.Shuffle(CollectionsMarshal.AsSpan(buffer));
        var examples = new List<PretrainingExample>();
        var vocabulary = _tokenizer.Vocabulary;
        for (int dupe = 0; dupe < _options.DupeFactor; dupe++)
        {
            for (int d = 0; d < buffer.Count; d++)
            {
                foreach (var pair in _pairs.FromDocument(buffer, d))
                {
                    var ids = new List<int>(pair.A.Count + pair.B.Count + 3) { vocabulary.ClassifierId };
                    ids.AddRange(pair.A);
                    ids.Add(vocabulary.SeparatorId);
                    int aLength = ids.Count;
                    if (pair.B.Count > 0)
                    {
                        ids.AddRange(pair.B);
                        ids.Add(vocabulary.SeparatorId);
                    }
                    examples.Add(new PretrainingExample(ids.ToArray(), aLength, pair.IsRandomNext, _masking.Mask(ids, _random)));
                }
            }
        }
        _random.Shuffle(CollectionsMarshal.AsSpan(examples));
        foreach (var example in examples) split.Append(example);
        buffer.Clear();
        split.BufferedTokens = 0;
    }

    /// <summary>The documents buffered for one split and the shard being written.</summary>
    private sealed class Split(string name, string folder, PretrainingDataOptions options)
    {
        public readonly List<IReadOnlyList<int[]>> Buffer = new();
        public long BufferedTokens;
        public long Documents;
        public long Examples;
        public readonly List<ShardEntry> Shards = new();
        private FileStream? _stream;
        private BinaryWriter? _writer;
        private string? _temporary;
        private int _inShard;

        public void Append(PretrainingExample example)
        {
            if (_writer is null || _inShard == options.ExamplesPerShard) Rotate();
            PretrainingShard.Write(_writer!, example, options.MaxSeqLength, options.MaxPredictions);
            _inShard++;
            Examples++;
        }

        private void Rotate()
        {
            Close();
            _temporary = Path.Combine(folder, $".{name}-{Shards.Count:D5}.bin.tmp");
            _stream = new FileStream(_temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            _writer = new BinaryWriter(_stream);
            _inShard = 0;
        }

        // A shard is renamed to its final name only once complete and on disk.
        public void Close()
        {
            if (_writer is null) return;
            _writer.Flush();
            _stream!.Flush(flushToDisk: true);
            _writer.Dispose();
            string file = $"{name}-{Shards.Count:D5}.bin";
            File.Move(_temporary!, Path.Combine(folder, file), overwrite: true);
            Shards.Add(new ShardEntry(file, name, _inShard));
            _writer = null;
            _stream = null;
        }
    }
}
