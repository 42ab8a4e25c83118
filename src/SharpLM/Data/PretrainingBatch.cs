using static TorchSharp.torch;

namespace SharpLM.Data;

/// <summary>
/// One batch of pretraining examples as tensors: inputs (with the masked positions replaced), segments,
/// attention mask, the masked positions as indexes into the flattened [batch × length] grid with their
/// labels, and the NSP labels (0: B follows A, 1: B is random; Hugging Face's convention).
/// </summary>
public sealed class PretrainingBatch : IDisposable
{
    /// <summary>Builds the tensors of <paramref name="examples"/>, padded to the longest with <paramref name="padId"/>.</summary>
    public PretrainingBatch(IReadOnlyList<PretrainingExample> examples, int padId)
    {
        int batch = examples.Count, length = examples.Max(e => e.Ids.Length);
        var ids = new long[batch * length];
        var types = new long[batch * length];
        var mask = new long[batch * length];
        var positions = new List<long>();
        var labels = new List<long>();
        var nsp = new long[batch];
        Array.Fill(ids, padId);
        for (int b = 0; b < batch; b++)
        {
            var e = examples[b];
            for (int t = 0; t < e.Ids.Length; t++)
            {
                ids[b * length + t] = e.Ids[t];
                types[b * length + t] = t < e.SegmentALength ? 0 : 1;
                mask[b * length + t] = 1;
            }
            for (int m = 0; m < e.Masked.Positions.Length; m++)
            {
                int at = b * length + e.Masked.Positions[m];
                ids[at] = e.Masked.InputIds[m];
                positions.Add(at);
                labels.Add(e.Masked.Labels[m]);
            }
            nsp[b] = e.IsRandomNext ? 1 : 0;
            Tokens += e.Ids.Length;
        }
        Examples = batch;
        MaskedCount = positions.Count;
        InputIds = tensor(ids, batch, length);
        TokenTypeIds = tensor(types, batch, length);
        AttentionMask = tensor(mask, batch, length);
        MaskedPositions = tensor(positions.ToArray());
        MaskedLabels = tensor(labels.ToArray());
        NextSentenceLabels = tensor(nsp);
    }

    /// <summary>Examples in the batch.</summary>
    public int Examples { get; }
    /// <summary>Masked positions in the batch.</summary>
    public int MaskedCount { get; }
    /// <summary>Real (non-padding) tokens in the batch.</summary>
    public long Tokens { get; }
    /// <summary>[batch, length] ids with the masked positions replaced.</summary>
    public Tensor InputIds { get; }
    /// <summary>[batch, length] segment ids.</summary>
    public Tensor TokenTypeIds { get; }
    /// <summary>[batch, length] 1 on tokens, 0 on padding.</summary>
    public Tensor AttentionMask { get; }
    /// <summary>[masked] indexes into the flattened [batch × length] positions.</summary>
    public Tensor MaskedPositions { get; }
    /// <summary>[masked] the original ids there.</summary>
    public Tensor MaskedLabels { get; }
    /// <summary>[batch] NSP labels.</summary>
    public Tensor NextSentenceLabels { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        InputIds.Dispose();
        TokenTypeIds.Dispose();
        AttentionMask.Dispose();
        MaskedPositions.Dispose();
        MaskedLabels.Dispose();
        NextSentenceLabels.Dispose();
    }
}
