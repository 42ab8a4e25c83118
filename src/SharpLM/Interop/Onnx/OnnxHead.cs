namespace SharpLM.Interop.Onnx;

/// <summary>
/// What an exported model computes on top of the encoder, and so which outputs its ONNX file has (named
/// as Hugging Face Optimum names them). Every export also has last_hidden_state, so that embed runs
/// on any exported folder, and pooler_output where the model has a pooler.
/// </summary>
public enum OnnxHead
{
    /// <summary>The bare encoder (BertModel, ElectraModel): last_hidden_state (and pooler_output).</summary>
    Encoder,
    /// <summary>BERT's pretraining heads (BertForPreTraining): prediction_logits and seq_relationship_logits.</summary>
    PreTraining,
    /// <summary>A masked LM alone (BertForMaskedLM, or ELECTRA's generator ElectraForMaskedLM): logits [batch, length, vocab].</summary>
    MaskedLm,
    /// <summary>ELECTRA's discriminator (ElectraForPreTraining): logits [batch, length], one per token that it was replaced.</summary>
    ReplacedTokenDetection,
    /// <summary>BertForSequenceClassification, ElectraForSequenceClassification: logits [batch, labels].</summary>
    SequenceClassification,
    /// <summary>BertForTokenClassification (the CRF's scores go beside the file): logits [batch, length, labels].</summary>
    TokenClassification,
    /// <summary>BertForQuestionAnswering: start_logits and end_logits [batch, length].</summary>
    QuestionAnswering,
}
