namespace SharpLM.Data;

/// <summary>
/// The binary layout of a shard: fixed-size records of little-endian int32, so a shard is memory-mapped
/// and example i is read at i × record size without parsing. A record: length, segment A length,
/// is-random-next (0/1), number of masked positions, then ids[max_seq_length] (unused slots 0), then
/// positions, input ids and labels, each [max_predictions].
/// </summary>
public static class PretrainingShard
{
    /// <summary>Bytes per record for the given lengths.</summary>
    public static int RecordBytes(int maxSeqLength, int maxPredictions) => 4 * (4 + maxSeqLength + 3 * maxPredictions);

    /// <summary>Appends <paramref name="example"/> to <paramref name="output"/> as one record.</summary>
    public static void Write(BinaryWriter output, PretrainingExample example, int maxSeqLength, int maxPredictions)
    {
        if (example.Ids.Length > maxSeqLength || example.Masked.Positions.Length > maxPredictions)
            throw new ArgumentException("the example is larger than the shard's record");
        output.Write(example.Ids.Length);
        output.Write(example.SegmentALength);
        output.Write(example.IsRandomNext ? 1 : 0);
        output.Write(example.Masked.Positions.Length);
        WritePadded(output, example.Ids, maxSeqLength);
        WritePadded(output, example.Masked.Positions, maxPredictions);
        WritePadded(output, example.Masked.InputIds, maxPredictions);
        WritePadded(output, example.Masked.Labels, maxPredictions);
    }

    private static void WritePadded(BinaryWriter output, int[] values, int size)
    {
        foreach (int v in values) output.Write(v);
        for (int i = values.Length; i < size; i++) output.Write(0);
    }
}
