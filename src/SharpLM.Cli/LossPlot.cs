using System.Text.Json;

namespace SharpLM.Cli;

/// <summary>
/// loss.png of a run: the training loss and the validation masked-LM loss against the step, from metrics.jsonl (for a
/// causal run, whose validation records say next_token, the next-token loss).
/// </summary>
public static class LossPlot
{
    /// <summary>Draws <paramref name="runs"/> (one curve pair per run, labelled) against the step into <paramref name="pngPath"/>.</summary>
    public static void Write(string pngPath, params (string Label, string MetricsPath)[] runs) => Write(pngPath, byMinutes: false, validationOnly: false, runs);

    /// <summary>
    /// Draws <paramref name="runs"/> into <paramref name="pngPath"/>, against the step or against the
    /// minutes since training started (metrics.jsonl's elapsed_seconds: runs of different speeds compared
    /// on the same clock), with or without the training curve.
    /// </summary>
    public static void Write(string pngPath, bool byMinutes, bool validationOnly, params (string Label, string MetricsPath)[] runs)
    {
        var plot = new ScottPlot.Plot();
        bool anyMasked = false, anyCausal = false;
        foreach (var (label, metricsPath) in runs)
        {
            var steps = new List<double>();
            var losses = new List<double>();
            var validationSteps = new List<double>();
            var validationLosses = new List<double>();
            bool causal = false;
            foreach (string line in File.ReadLines(metricsPath))
            {
                using var record = JsonDocument.Parse(line);
                var root = record.RootElement;
                double x = byMinutes ? root.GetProperty("elapsed_seconds").GetDouble() / 60 : root.GetProperty("step").GetDouble();
                steps.Add(x);
                losses.Add(root.GetProperty("masked_lm_loss").GetDouble());
                if (root.TryGetProperty("validation", out var v) && v.ValueKind == JsonValueKind.Object)
                {
                    validationSteps.Add(x);
                    validationLosses.Add(v.GetProperty("masked_lm_loss").GetDouble());
                    causal |= v.TryGetProperty("next_token", out var flag) && flag.ValueKind == JsonValueKind.True;
                }
            }
            if (steps.Count == 0) continue;
            (anyCausal, anyMasked) = (anyCausal || causal, anyMasked || !causal);
            string kind = causal ? "next-token loss" : "MLM loss";
            if (!validationOnly)
            {
                var train = plot.Add.ScatterLine(steps.ToArray(), losses.ToArray());
                train.LegendText = $"{label} training {kind}";
            }
            if (validationSteps.Count > 0)
            {
                var validation = validationOnly ? plot.Add.ScatterLine(validationSteps.ToArray(), validationLosses.ToArray()) : plot.Add.Scatter(validationSteps.ToArray(), validationLosses.ToArray());
                validation.LegendText = $"{label} validation {kind}";
                validation.MarkerSize = 7;
            }
        }
        plot.XLabel(byMinutes ? "minutes" : "step");
        plot.YLabel(anyCausal && anyMasked ? "loss" : anyCausal ? "next-token loss" : "masked-LM loss");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        string temporary = pngPath + ".tmp.png";
        plot.SavePng(temporary, 900, 500);
        File.Move(temporary, pngPath, overwrite: true);
    }
}
