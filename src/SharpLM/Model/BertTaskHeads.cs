using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Model;

// The fine-tuning heads, named as Hugging Face names them so that fine-tuned checkpoints move both
// ways: BertForSequenceClassification, BertForQuestionAnswering. BertForTokenClassification lives in
// Tasks/TokenClassification beside the CRF it may carry.

/// <summary>
/// One logit per label. BERT (fields bert, dropout, classifier): pooled [CLS] output, dropout, linear.
/// ELECTRA (Hugging Face's ElectraForSequenceClassification, fields electra, classifier): the first
/// token's hidden state through <see cref="ElectraClassificationHead"/>.
/// </summary>
public sealed class BertForSequenceClassification : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Module<Tensor, Tensor> classifier;
    private readonly bool _electra;

    /// <summary>Creates the model for <paramref name="labels"/> labels.</summary>
    public BertForSequenceClassification(BertConfig config, int labels) : base(nameof(BertForSequenceClassification))
    {
        bert = new BertModel(config);
        // The encoder's field is named as Hugging Face names it for the model type: bert or electra.
        register_module(config.EncoderName, bert);
        dropout = Dropout(config.HiddenDropoutProb);
        _electra = config.IsElectra;
        classifier = _electra ? new ElectraClassificationHead(config, labels) : Linear(config.HiddenSize, labels);
        RegisterComponents();
        BertInitialization.Apply(classifier, config);
    }

    /// <summary>The encoder.</summary>
    public BertModel Bert => bert;

    /// <summary>Logits [batch, labels].</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var (sequence, pooled) = bert.call(inputIds, tokenTypeIds, attentionMask);
        if (_electra)
        {
            pooled.Dispose();
            using (sequence) return classifier.call(sequence);
        }
        sequence.Dispose();
        using (pooled)
        using (var dropped = dropout.call(pooled))
            return classifier.call(dropped);
    }
}

/// <summary>Span extraction: a start and an end logit per token (fields bert or electra, qa_outputs; no pooler).</summary>
public sealed class BertForQuestionAnswering : Module<Tensor, Tensor, Tensor, (Tensor StartLogits, Tensor EndLogits)>
{
    private readonly BertModel bert;
    private readonly Linear qa_outputs;

    /// <summary>Creates the model.</summary>
    public BertForQuestionAnswering(BertConfig config) : base(nameof(BertForQuestionAnswering))
    {
        bert = new BertModel(config, addPoolingLayer: false);
        register_module(config.EncoderName, bert);
        qa_outputs = Linear(config.HiddenSize, 2);
        RegisterComponents();
        BertInitialization.Apply(qa_outputs, config);
    }

    /// <summary>The encoder.</summary>
    public BertModel Bert => bert;

    /// <summary>Start and end logits, each [batch, length].</summary>
    public override (Tensor StartLogits, Tensor EndLogits) forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var (sequence, pooled) = bert.call(inputIds, tokenTypeIds, attentionMask);
        pooled.Dispose();
        using (sequence)
        using (var logits = qa_outputs.call(sequence))
        {
            var parts = logits.split(1, -1);
            using var start = parts[0];
            using var end = parts[1];
            return (start.squeeze(-1), end.squeeze(-1));
        }
    }
}
