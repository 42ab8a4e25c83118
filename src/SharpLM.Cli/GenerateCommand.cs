using System.CommandLine;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Tasks.Generation;

namespace SharpLM.Cli;

/// <summary><c>sharplm generate</c>: continues a prompt with a causal model, streaming the text as it comes.</summary>
public static class GenerateCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var d = new GenerationOptions();
        var model = new Option<string>("--model") { Description = "A causal model folder (pretrain --objective causal, or a Hugging Face Llama with a byte-level BPE tokenizer.json).", Required = true };
        var maxNew = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => d.MaxNewTokens, Description = "Tokens to generate at most." };
        var temperature = new Option<double>("--temperature") { DefaultValueFactory = _ => d.Temperature, Description = "Sampling temperature; 0 is greedy." };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => d.TopK, Description = "Sample among the k most likely tokens (0: all)." };
        var topP = new Option<double>("--top-p") { DefaultValueFactory = _ => d.TopP, Description = "Sample among the most likely tokens that make up probability p (1: all)." };
        var penalty = new Option<double>("--repetition-penalty") { DefaultValueFactory = _ => d.RepetitionPenalty, Description = "Penalty on tokens already seen (1: none)." };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => d.Seed, Description = "Seed of the sampling." };
        var stop = new Option<string[]>("--stop") { Description = "End the text where this appears (repeatable).", AllowMultipleArgumentsPerToken = false };
        var input = new Option<string?>("--input") { Description = "A UTF-8 file: one prompt per line; prints one JSON line per prompt." };
        var prompt = new Argument<string?>("prompt") { Description = "The text to continue (instead of --input).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("generate", "Continue a prompt with a causal model: the text streams to the terminal as it is generated (with --input, one JSON line per prompt).")
        {
            model, maxNew, temperature, topK, topP, penalty, seed, stop, input, prompt,
        };
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(input), single = parse.GetValue(prompt);
            if ((file is null) == (single is null)) throw new InvalidInputException("generate: give either --input FILE or a PROMPT argument (one of them).");
            var options = new GenerationOptions(parse.GetValue(maxNew), parse.GetValue(temperature), parse.GetValue(topK), parse.GetValue(topP),
                parse.GetValue(penalty), parse.GetValue(seed), parse.GetValue(stop) ?? []).Validate();
            var prompts = file is null ? [single!] : CorpusFiles.ReadSingleFile(file, "generate").Where(l => l.Length > 0).ToList();
            using var generator = TextGenerator.Load(parse.GetValue(model)!);
            if (file is null)
            {
                context.Output.Write(single);
                var result = generator.Generate(single!, options, text => { context.Output.Write(text); context.Output.Flush(); });
                context.Output.WriteLine();
                context.Output.Flush();
                context.Error.WriteLine($"{result.TokenIds.Count} tokens in {result.Seconds:F2} s ({result.TokenIds.Count / Math.Max(result.Seconds, 1e-9):F1} tokens/s), stopped by {result.StopReason}");
                return 0;
            }
            foreach (string text in prompts)
            {
                var result = generator.Generate(text, options);
                context.Output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["prompt"] = text, ["generated_text"] = result.Text, ["tokens"] = result.TokenIds.Count, ["stop_reason"] = result.StopReason,
                }, PredictCommand.Json));
            }
            return 0;
        });
        return command;
    }
}
