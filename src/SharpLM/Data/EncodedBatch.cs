using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Data;

/// <summary>Encodings of different lengths padded into the three [batch, length] int64 tensors a BERT takes.</summary>
public sealed class EncodedBatch : IDisposable
{
    /// <summary>
    /// Pads <paramref name="encodings"/> to the longest with the vocabulary's [PAD], or with id 0 when it
    /// has none (padding is masked out, so any valid id does).
    /// </summary>
    public EncodedBatch(IReadOnlyList<EncodedText> encodings, Vocabulary vocabulary)
    {
        int padId = Math.Max(vocabulary.PadId, 0);
        int batch = encodings.Count, length = encodings.Max(e => e.Length);
        var ids = new long[batch * length];
        var types = new long[batch * length];
        var mask = new long[batch * length];
        Array.Fill(ids, padId);
        for (int b = 0; b < batch; b++)
        {
            var e = encodings[b];
            for (int t = 0; t < e.Length; t++)
            {
                ids[b * length + t] = e.Ids[t];
                types[b * length + t] = e.TypeIds[t];
                mask[b * length + t] = 1;
            }
        }
        InputIds = tensor(ids, batch, length);
        TokenTypeIds = tensor(types, batch, length);
        AttentionMask = tensor(mask, batch, length);
    }

    /// <summary>Token ids, padded.</summary>
    public Tensor InputIds { get; }
    /// <summary>Segment ids (0 on padding).</summary>
    public Tensor TokenTypeIds { get; }
    /// <summary>1 on tokens, 0 on padding.</summary>
    public Tensor AttentionMask { get; }

    /// <inheritdoc/>
    public void Dispose()
    {
        InputIds.Dispose();
        TokenTypeIds.Dispose();
        AttentionMask.Dispose();
    }
}
