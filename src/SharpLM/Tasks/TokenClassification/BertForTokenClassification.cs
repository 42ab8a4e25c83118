using SharpLM.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Tasks.TokenClassification;

/// <summary>
/// Hugging Face's BertForTokenClassification, or ElectraForTokenClassification for an ELECTRA config
/// (fields bert or electra, dropout, classifier; no pooler: every
/// token's hidden state, dropout, linear) with an optional <see cref="ConditionalRandomField"/> on top
/// (field crf). Its weights load in Hugging Face, which reports crf.* as unused and decodes by argmax.
/// </summary>
public sealed class BertForTokenClassification : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;
    private readonly ConditionalRandomField? crf;

    /// <summary>Creates the model for the config's labels, with a CRF when <see cref="BertConfig.Crf"/> is set.</summary>
    public BertForTokenClassification(BertConfig config) : base(nameof(BertForTokenClassification))
    {
        bert = new BertModel(config, addPoolingLayer: false);
        register_module(config.EncoderName, bert);
        dropout = Dropout(config.HiddenDropoutProb);
        classifier = Linear(config.HiddenSize, config.Labels.Count);
        if (config.Crf) crf = new ConditionalRandomField(config.Labels);
        RegisterComponents();
        BertInitialization.Apply(classifier, config);
    }

    /// <summary>The CRF, or null when tags are chosen by argmax.</summary>
    public ConditionalRandomField? Crf => crf;

    /// <summary>Tag scores (emissions) [batch, length, labels].</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var (sequence, pooled) = bert.call(inputIds, tokenTypeIds, attentionMask);
        pooled.Dispose();
        using (sequence)
        using (var dropped = dropout.call(sequence))
            return classifier.call(dropped);
    }
}
