using SharpLM.Model;

namespace SharpLM.Serving;

/// <summary>What a served model does beyond embeddings, read from its config's architectures.</summary>
public enum ModelTask
{
    /// <summary>An encoder alone (BertModel, an ELECTRA discriminator): /embed only.</summary>
    Embed,
    /// <summary>A masked LM (BertForPreTraining, BertForMaskedLM, ElectraForMaskedLM): /fill-mask.</summary>
    FillMask,
    /// <summary>A sequence classifier: /classify.</summary>
    Classify,
    /// <summary>A token tagger: /ner.</summary>
    Ner,
    /// <summary>Extractive question answering: /qa.</summary>
    QuestionAnswering,
}

/// <summary>The task of a model folder.</summary>
public static class ModelTasks
{
    /// <summary>The task the config's architecture names; a folder without one is an encoder.</summary>
    public static ModelTask Of(BertConfig config) => config.Architecture switch
    {
        "BertForPreTraining" or "BertForMaskedLM" or "ElectraForMaskedLM" => ModelTask.FillMask,
        { } a when a.EndsWith("ForSequenceClassification", StringComparison.Ordinal) => ModelTask.Classify,
        { } a when a.EndsWith("ForTokenClassification", StringComparison.Ordinal) => ModelTask.Ner,
        { } a when a.EndsWith("ForQuestionAnswering", StringComparison.Ordinal) => ModelTask.QuestionAnswering,
        _ => ModelTask.Embed,
    };

    /// <summary>The endpoint of a task ("embed", "fill-mask", "classify", "ner", "qa").</summary>
    public static string Endpoint(this ModelTask task) => task switch
    {
        ModelTask.FillMask => "fill-mask",
        ModelTask.Classify => "classify",
        ModelTask.Ner => "ner",
        ModelTask.QuestionAnswering => "qa",
        _ => "embed",
    };
}
