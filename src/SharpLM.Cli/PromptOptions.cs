using System.CommandLine;
using SharpLM.Tasks.Classification;

namespace SharpLM.Cli;

/// <summary>--prompt and --verbalizer: classification through a masked LM's head (PET) in predict, evaluate and finetune classify.</summary>
internal sealed class PromptOptions
{
    public readonly Option<string?> Prompt = new("--prompt") { Description = "Classify with a masked LM through this cloze template, e.g. \"{text} It was [MASK].\" ({text}, optional {text_pair}, one [MASK]); needs --verbalizer." };
    public readonly Option<string?> Verbalizer = new("--verbalizer") { Description = "Words for each label at the mask, e.g. \"positive=great|good,negative=terrible\" (each word one token of the model's vocabulary)." };

    public IEnumerable<Option> All => [Prompt, Verbalizer];

    /// <summary>The typed prompt, or null when neither option was given.</summary>
    public ClozePrompt? Of(ParseResult parse)
    {
        string? template = parse.GetValue(Prompt), verbalizer = parse.GetValue(Verbalizer);
        if (template is null && verbalizer is null) return null;
        if (template is null || verbalizer is null) throw new InvalidInputException("--prompt and --verbalizer go together: give both.");
        return ClozePrompt.Parse(template, verbalizer);
    }

    /// <summary>Whether <paramref name="model"/> classifies through a prompt: one was typed, or the folder keeps one (prompt-tuned).</summary>
    public bool Applies(ParseResult parse, string model) => Of(parse) is not null || File.Exists(Path.Combine(model, ClozePrompt.FileName));
}
