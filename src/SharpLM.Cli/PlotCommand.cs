using System.CommandLine;

namespace SharpLM.Cli;

/// <summary><c>sharplm plot</c>: the loss curves of one or more runs in one PNG.</summary>
public static class PlotCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var runs = new Option<string[]>("--run") { Description = "Run folders (each with a metrics.jsonl).", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "The PNG to write.", Required = true };
        var x = new Option<string>("--x") { Description = "step, or minutes since training started (to compare runs of different speeds).", DefaultValueFactory = _ => "step" };
        x.AcceptOnlyFromAmong("step", "minutes");
        var validationOnly = new Option<bool>("--validation-only") { Description = "Draw only the validation curves." };
        var command = new Command("plot", "Draw the training and validation masked-LM loss of runs into one PNG.") { runs, output, x, validationOnly };
        command.SetAction(parse =>
        {
            var series = parse.GetValue(runs)!.Select(folder =>
            {
                string metrics = Path.Combine(folder, "metrics.jsonl");
                if (!File.Exists(metrics)) throw new InvalidInputException($"{folder}: no metrics.jsonl; not a run folder.");
                return (Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), metrics);
            }).ToArray();
            LossPlot.Write(parse.GetValue(output)!, parse.GetValue(x) == "minutes", parse.GetValue(validationOnly), series);
            context.Error.WriteLine($"wrote {parse.GetValue(output)}");
            return 0;
        });
        return command;
    }
}
