namespace SharpLM.Tasks.Embeddings;

/// <summary>How one vector is made from a text's last hidden states (sentence-transformers' pooling modes).</summary>
public enum EmbeddingPooling
{
    /// <summary>The attention-masked mean over the text's tokens, [CLS] and [SEP] included (all-MiniLM-L6-v2's pooling).</summary>
    Mean,
    /// <summary>The hidden state at [CLS].</summary>
    Cls,
}
