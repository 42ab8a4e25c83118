namespace SharpLM.Tasks.Generation;

/// <summary>How <see cref="TextGenerator"/> chooses tokens, with the meanings of Hugging Face's generate().</summary>
/// <param name="MaxNewTokens">Tokens to generate at most.</param>
/// <param name="Temperature">Logits are divided by it before sampling; 0 is greedy (always the most likely token).</param>
/// <param name="TopK">Sample among the k most likely tokens (0: all).</param>
/// <param name="TopP">Sample among the most likely tokens whose probabilities sum to at least p (1: all).</param>
/// <param name="RepetitionPenalty">CTRL's penalty on every token already in the prompt or output: a positive logit is divided by it, a negative one multiplied (1: none).</param>
/// <param name="Seed">Seed of the sampling: the same seed, model and prompt give the same text.</param>
/// <param name="Stop">Texts that end the generation when they appear in the output (they are not returned).</param>
public sealed record GenerationOptions(int MaxNewTokens = 100, double Temperature = 0.8, int TopK = 40, double TopP = 0.95, double RepetitionPenalty = 1.1,
    long Seed = 42, IReadOnlyList<string>? Stop = null)
{
    /// <summary>Checks the options; the message names the option.</summary>
    public GenerationOptions Validate()
    {
        if (MaxNewTokens < 1) throw new InvalidInputException($"--max-new-tokens {MaxNewTokens}: must be at least 1.");
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new InvalidInputException($"--temperature {Temperature}: must be zero (greedy) or positive.");
        if (TopK < 0) throw new InvalidInputException($"--top-k {TopK}: must be zero (all tokens) or positive.");
        if (!(TopP > 0 && TopP <= 1)) throw new InvalidInputException($"--top-p {TopP}: must be in (0, 1].");
        if (!(RepetitionPenalty > 0) || double.IsInfinity(RepetitionPenalty)) throw new InvalidInputException($"--repetition-penalty {RepetitionPenalty}: must be positive (1: none).");
        if (Stop?.Any(string.IsNullOrEmpty) == true) throw new InvalidInputException("--stop: a stop text must not be empty.");
        return this;
    }
}

/// <summary>What <see cref="TextGenerator.Generate"/> produced.</summary>
/// <param name="Text">The generated text (after the prompt, without a stop text).</param>
/// <param name="TokenIds">The generated token ids (the end-of-text token and the tokens of a stop text included).</param>
/// <param name="StopReason">"eos" (the model ended the text), "stop" (a stop text), "length" (--max-new-tokens) or "context" (the model's positions ran out).</param>
/// <param name="PromptTokens">Tokens of the prompt, the beginning-of-text token included.</param>
/// <param name="Seconds">Wall-clock seconds of the whole generation.</param>
public sealed record GenerationResult(string Text, IReadOnlyList<int> TokenIds, string StopReason, int PromptTokens, double Seconds);
