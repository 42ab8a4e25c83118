using SharpLM.Model;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Tasks.RelationExtraction;

/// <summary>
/// Relation classification from entity markers (Baldini Soares et al. 2019, "entity start"): the hidden states at the
/// [E1] and [E2] markers that open the head and tail entities, concatenated, dropout, one linear layer to the labels.
/// Fields bert (no pooler), dropout and classifier, so the encoder's weights keep Hugging Face's names; Hugging Face has
/// no class for this head, and loads the encoder of the folder as a BertModel.
/// </summary>
public sealed class BertForRelationClassification : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly BertModel bert;
    private readonly Dropout dropout;
    private readonly Linear classifier;

    /// <summary>Creates the model for the config's labels.</summary>
    public BertForRelationClassification(BertConfig config) : base(nameof(BertForRelationClassification))
    {
        bert = new BertModel(config, addPoolingLayer: false);
        register_module(config.EncoderName, bert);
        dropout = Dropout(config.HiddenDropoutProb);
        classifier = Linear(2 * config.HiddenSize, config.Labels.Count);
        RegisterComponents();
        BertInitialization.Apply(classifier, config);
    }

    /// <summary>The encoder.</summary>
    public BertModel Bert => bert;

    /// <summary>The positions of the [E1] and [E2] markers, [batch, 2], that <see cref="forward"/> reads; set before each call.</summary>
    public Tensor? MarkerPositions { get; set; }

    /// <summary>Logits [batch, labels] from the states at <see cref="MarkerPositions"/>.</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask)
    {
        var markers = MarkerPositions ?? throw new InvalidOperationException("set MarkerPositions before calling the model.");
        var (sequence, pooled) = bert.call(inputIds, tokenTypeIds, attentionMask);
        pooled.Dispose();
        using (sequence)
        using (var index = markers.unsqueeze(-1).expand(-1, -1, sequence.shape[2]))
        using (var starts = sequence.gather(1, index))
        using (var joined = starts.reshape(starts.shape[0], -1))
        using (var dropped = dropout.call(joined))
            return classifier.call(dropped);
    }
}
