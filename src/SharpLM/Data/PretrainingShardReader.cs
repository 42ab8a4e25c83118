using System.IO.MemoryMappedFiles;

namespace SharpLM.Data;

/// <summary>Reads the examples of one shard through a memory map; thread-safe for reading.</summary>
public sealed class PretrainingShardReader : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly int _maxSeqLength, _maxPredictions, _recordBytes;

    /// <summary>Maps <paramref name="path"/>, whose records have the given lengths.</summary>
    /// <exception cref="InvalidInputException">The file size is not a whole number of records.</exception>
    public PretrainingShardReader(string path, int maxSeqLength, int maxPredictions)
    {
        _maxSeqLength = maxSeqLength;
        _maxPredictions = maxPredictions;
        _recordBytes = PretrainingShard.RecordBytes(maxSeqLength, maxPredictions);
        long size = new FileInfo(path).Length;
        if (size % _recordBytes != 0)
            throw new InvalidInputException($"{path}: {size} bytes is not a whole number of {_recordBytes}-byte records; the shard is truncated or was written with other settings.");
        Count = (int)(size / _recordBytes);
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
    }

    /// <summary>Examples in the shard.</summary>
    public int Count { get; }

    /// <summary>The token count of example <paramref name="index"/>, read without the rest of its record.</summary>
    public int LengthOf(int index) => _view.ReadInt32((long)index * _recordBytes);

    /// <summary>Example <paramref name="index"/>.</summary>
    public PretrainingExample Read(int index)
    {
        long at = (long)index * _recordBytes;
        int length = _view.ReadInt32(at), aLength = _view.ReadInt32(at + 4), random = _view.ReadInt32(at + 8), masked = _view.ReadInt32(at + 12);
        if (length < 2 || length > _maxSeqLength || masked < 0 || masked > _maxPredictions || aLength < 2 || aLength > length)
            throw new InvalidDataException($"record {index} is corrupt");
        var ids = new int[length];
        _view.ReadArray(at + 16, ids, 0, length);
        long positionsAt = at + 16 + 4L * _maxSeqLength;
        var positions = new int[masked];
        var inputs = new int[masked];
        var labels = new int[masked];
        _view.ReadArray(positionsAt, positions, 0, masked);
        _view.ReadArray(positionsAt + 4L * _maxPredictions, inputs, 0, masked);
        _view.ReadArray(positionsAt + 8L * _maxPredictions, labels, 0, masked);
        return new PretrainingExample(ids, aLength, random == 1, new MaskedPositions(positions, inputs, labels));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
    }
}
