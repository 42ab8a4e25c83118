using System.Text.Json;

namespace SharpLM.Cli;

/// <summary>loss.png of a run: the training loss and the validation masked-LM loss against the step, from metrics.jsonl.</summary>
public static class LossPlot
{
    /// <summary>Draws <paramref name="metricsPaths"/> (one curve pair per run, labelled) into <paramref name="pngPath"/>.</summary>
    public static void Write(string pngPath, params (string Label, string MetricsPath)[] runs)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, metricsPath) in runs)
        {
            var steps = new List<double>();
            var losses = new List<double>();
            var validationSteps = new List<double>();
            var validationLosses = new List<double>();
            foreach (string line in File.ReadLines(metricsPath))
            {
                using var record = JsonDocument.Parse(line);
                var root = record.RootElement;
                double step = root.GetProperty("step").GetDouble();
                steps.Add(step);
                losses.Add(root.GetProperty("masked_lm_loss").GetDouble());
                if (root.TryGetProperty("validation", out var v) && v.ValueKind == JsonValueKind.Object)
                {
                    validationSteps.Add(step);
                    validationLosses.Add(v.GetProperty("masked_lm_loss").GetDouble());
                }
            }
            if (steps.Count == 0) continue;
            var train = plot.Add.ScatterLine(steps.ToArray(), losses.ToArray());
            train.LegendText = $"{label} training MLM loss";
            if (validationSteps.Count > 0)
            {
                var validation = plot.Add.Scatter(validationSteps.ToArray(), validationLosses.ToArray());
                validation.LegendText = $"{label} validation MLM loss";
                validation.MarkerSize = 7;
            }
        }
        plot.XLabel("step");
        plot.YLabel("masked-LM loss");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        string temporary = pngPath + ".tmp.png";
        plot.SavePng(temporary, 900, 500);
        File.Move(temporary, pngPath, overwrite: true);
    }
}
