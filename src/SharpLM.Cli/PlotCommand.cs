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
        var command = new Command("plot", "Draw the training and validation masked-LM loss of runs into one PNG.") { runs, output };
        command.SetAction(parse =>
        {
            var series = parse.GetValue(runs)!.Select(folder =>
            {
                string metrics = Path.Combine(folder, "metrics.jsonl");
                if (!File.Exists(metrics)) throw new InvalidInputException($"{folder}: no metrics.jsonl; not a run folder.");
                return (Path.GetFileName(Path.TrimEndingDirectorySeparator(folder)), metrics);
            }).ToArray();
            LossPlot.Write(parse.GetValue(output)!, series);
            context.Error.WriteLine($"wrote {parse.GetValue(output)}");
            return 0;
        });
        return command;
    }
}
