using SharpLM.Interop;
using SharpLM.Model;

namespace SharpLM.Training;

/// <summary>
/// Pretraining that starts from a model folder instead of random weights (<c>sharplm pretrain --init DIR</c>):
/// domain-adaptive pretraining (Gururangan et al. 2020, "Don't Stop Pretraining") and continual pretraining
/// in rounds. The folder may be a SharpLM or Hugging Face BERT with or without its pretraining heads, or a
/// fine-tuned BERT: its encoder must be complete; a masked-LM head it lacks is initialised as BERT initialises
/// one and tied to the word embeddings, and the task head of a fine-tuned model is left behind.
/// </summary>
public static class ContinuedPretraining
{
    /// <summary>
    /// The peak learning rate when none is given: the order of the rates domain-adaptive pretraining and
    /// Hugging Face's run_mlm use (1e-4 and 5e-5). A recipe's from-scratch rate (1e-3 for Cramming) can
    /// wipe out what a post-LayerNorm model such as BERT or MiniLM learnt.
    /// </summary>
    public const double DefaultLearningRate = 1e-4;

    /// <summary>
    /// The config to pretrain <paramref name="directory"/>'s model with: its own sizes and options as a
    /// BertForPreTraining, with no task labels, and the vocabulary projection on masked positions only
    /// (a SharpLM option of the loss, not of the weights).
    /// </summary>
    /// <exception cref="InvalidInputException">The folder is an ELECTRA model, or not a model folder.</exception>
    public static BertConfig Config(string directory)
    {
        var config = BertConfig.Load(directory);
        if (config.IsElectra)
            throw new InvalidInputException($"{directory}: --init continues masked-LM pretraining of a BERT; an ELECTRA model needs its generator and discriminator together, which --init does not take.");
        return config with { Architecture = "BertForPreTraining", Labels = [], Crf = false, SparseMaskedLm = true };
    }

    /// <summary>
    /// Copies <paramref name="directory"/>'s weights into <paramref name="model"/> (built from <see cref="Config"/>
    /// after seeding, so any new head is the same for the same seed) and returns the names of the
    /// weights that start new.
    /// </summary>
    /// <exception cref="InvalidInputException">An encoder weight is missing or has another shape.</exception>
    public static IReadOnlyList<string> Load(BertForPreTraining model, string directory)
    {
        var report = HuggingFaceCheckpoint.LoadDirectory(model, model.Config, directory);
        report.RequireEncoder(model.Config, directory);
        return report.Missing;
    }
}
