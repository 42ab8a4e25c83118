using System.CommandLine;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Tasks.FillMask;

namespace SharpLM.Cli;

/// <summary><c>sharplm fill-mask</c>: the most likely tokens for each [MASK] in a text.</summary>
public static class FillMaskCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder with a masked-LM head (cls.predictions.*).", Required = true };
        var topK = new Option<int>("--top-k") { Description = "Predictions per [MASK].", DefaultValueFactory = _ => 5 };
        var input = new Option<string?>("--input") { Description = "A UTF-8 file: one text per line (each with one or more [MASK]); prints one JSON array of its masks per line." };
        var text = new Argument<string?>("text") { Description = "Text with one or more [MASK] tokens (instead of --input).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("fill-mask", "Predict each [MASK]: one JSON line per mask with the top-k tokens and their probabilities (with --input, one JSON array of masks per input line).")
        {
            model, topK, input, text,
        };
        var engine = EngineOption.Create();
        command.Add(engine);
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(input), single = parse.GetValue(text);
            if ((file is null) == (single is null)) throw new InvalidInputException("fill-mask: give either --input FILE or a TEXT argument (one of them).");
            string directory = parse.GetValue(model)!;
            var texts = file is null ? [single!] : CorpusFiles.ReadSingleFile(file, "fill-mask").Where(l => l.Length > 0).ToList();
            using var filler = MaskFiller.Load(directory, EngineOption.Of(parse, engine));
            if (filler.LoadReport is { } report) CheckpointReportLine.Write(context, directory, report);
            var results = filler.Fill(texts, parse.GetValue(topK));
            if (file is null)
                foreach (var mask in results[0]) context.Output.WriteLine(JsonSerializer.Serialize(mask, PredictCommand.Json));
            else
                foreach (var masks in results) context.Output.WriteLine(JsonSerializer.Serialize(masks, PredictCommand.Json));
            return 0;
        });
        return command;
    }
}
