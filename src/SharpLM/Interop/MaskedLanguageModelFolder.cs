using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Interop;

/// <summary>Loads the masked LM of a model folder for fill-mask and eval: a BERT with its pretraining heads, or an ELECTRA generator.</summary>
public static class MaskedLanguageModelFolder
{
    /// <summary>
    /// The model of <paramref name="directory"/> with its weights, and what loading found. An ELECTRA
    /// discriminator is refused with a message pointing at its generator/ folder: it has no masked-LM head.
    /// </summary>
    /// <exception cref="InvalidInputException">The folder is an ELECTRA discriminator, or its encoder or masked-LM head is incomplete.</exception>
    public static (nn.Module Module, IMaskedLanguageModel Model, CheckpointLoadReport Report) Load(string directory)
    {
        var config = BertConfig.Load(directory);
        if (config.IsElectra && config.Architecture != "ElectraForMaskedLM")
        {
            string generator = Path.Combine(directory, "generator");
            throw new InvalidInputException($"{directory}: an ELECTRA {config.Architecture ?? "model"} has no masked-LM head; " +
                (Directory.Exists(generator) ? $"its generator, {generator}, fills masks." : "an ELECTRA generator (ElectraForMaskedLM) fills masks."));
        }
        nn.Module module = config.IsElectra ? new ElectraForMaskedLM(config) : new BertForPreTraining(config);
        try
        {
            var report = HuggingFaceCheckpoint.LoadDirectory(module, config, directory);
            report.RequireEncoder(config, directory);
            var headMissing = report.Missing.Where(n => n.StartsWith("cls.predictions.", StringComparison.Ordinal) || n.StartsWith("generator_", StringComparison.Ordinal)).ToList();
            if (headMissing.Count > 0)
                throw new InvalidInputException($"{directory}: the checkpoint has no masked-LM head ({headMissing[0]} is missing); this needs a pretrained BertForPreTraining, BertForMaskedLM or ElectraForMaskedLM.");
            module.eval();
            return (module, (IMaskedLanguageModel)module, report);
        }
        catch
        {
            module.Dispose();
            throw;
        }
    }
}
