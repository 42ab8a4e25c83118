namespace SharpLM.Data;

/// <summary>
/// One pretraining example: the original ids ([CLS] A [SEP] B [SEP], unpadded), how long segment A
/// runs ([CLS] and its [SEP] included; the rest is segment 1), whether B came from another document,
/// and the masked-LM targets (positions, the ids the model sees there, the ids to predict).
/// </summary>
public sealed record PretrainingExample(int[] Ids, int SegmentALength, bool IsRandomNext, MaskedPositions Masked);
