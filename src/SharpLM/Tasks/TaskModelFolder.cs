using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace SharpLM.Tasks;

/// <summary>Loading a model folder into a task model, with the checks each use needs.</summary>
public static class TaskModelFolder
{
    /// <summary>
    /// Fills the encoder of <paramref name="model"/> from a pretrained folder (pretraining checkpoint, bare
    /// BertModel or ElectraModel, ELECTRA discriminator, or another task's model): every bert.* (or
    /// electra.*) weight the model has must be there, except the pooler when <paramref name="poolerOptional"/>;
    /// the task head may be new.
    /// </summary>
    public static void LoadEncoder(nn.Module model, BertConfig config, string directory, bool poolerOptional = true) =>
        HuggingFaceCheckpoint.LoadDirectory(model, config, directory).RequireEncoder(config, directory, poolerOptional);

    /// <summary>
    /// The config of a fine-tuned model saved by SharpLM or Hugging Face, checked to be the model type's
    /// class with <paramref name="head"/> ("ForSequenceClassification": BertForSequenceClassification or
    /// ElectraForSequenceClassification) and to name its labels.
    /// </summary>
    public static BertConfig ConfigOf(string directory, string head) => CheckTask(BertConfig.Load(directory), directory, head);

    /// <summary>
    /// A fine-tuned model exported by <c>sharplm export onnx</c> (a folder or its .onnx file), opened in
    /// ONNX Runtime and checked as <see cref="ConfigOf"/> checks a model folder.
    /// </summary>
    public static OnnxRuntimeModel LoadExported(string path, string head)
    {
        var runtime = OnnxRuntimeModel.Load(path);
        try
        {
            CheckTask(runtime.Config, runtime.Directory, head);
            return runtime;
        }
        catch
        {
            runtime.Dispose();
            throw;
        }
    }

    private static BertConfig CheckTask(BertConfig config, string directory, string head)
    {
        string architecture = config.ClassName(head);
        if (config.Architecture != architecture)
            throw new InvalidInputException($"{directory}: config.json says architectures [{config.Architecture}], not {architecture}; fine-tune a model for this task first.");
        if (config.Labels.Count == 0 && head != "ForQuestionAnswering")
            throw new InvalidInputException($"{directory}: config.json has no id2label; a {architecture} needs its labels.");
        return config;
    }

    /// <summary>Loads every weight of a fine-tuned model; a missing one is an error naming it.</summary>
    public static void LoadAll(nn.Module model, BertConfig config, string directory)
    {
        var report = HuggingFaceCheckpoint.LoadDirectory(model, config, directory);
        if (report.Missing.Count > 0)
            throw new InvalidInputException($"{directory}: the checkpoint lacks {report.Missing.Count} weights (first: {report.Missing[0]}).");
    }
}
