using static TorchSharp.torch;

namespace SharpLM.Model;

/// <summary>A model that fills masks: BERT with its pretraining heads, or ELECTRA's generator.</summary>
public interface IMaskedLanguageModel
{
    /// <summary>The configuration.</summary>
    BertConfig Config { get; }

    /// <summary>
    /// Vocabulary logits [masked, vocab] at <paramref name="maskedPositions"/> (indexes into the
    /// flattened [batch × length] positions) of ids, segments and attention mask [batch, length].
    /// </summary>
    Tensor MaskedLmLogits(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, Tensor maskedPositions);
}
