using System.Text.Json;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary>
/// Where a training run reports: one progress line per logged step on the error stream (step, loss,
/// learning rate, tokens/s, ETA, and validation figures when evaluated), and one JSON object per
/// logged step appended to metrics.jsonl.
/// </summary>
public sealed class TrainingLog : IDisposable
{
    /// <summary>metrics.jsonl's field names (snake_case), which TensorBoard's tags take too.</summary>
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
    private readonly StreamWriter _metrics;
    private readonly TextWriter _progress;

    private readonly bool _quiet;

    /// <summary>A causal run: the loss is next-token prediction alone, and validation shows perplexity and bits per byte.</summary>
    public bool NextToken { get; init; }

    /// <summary>Appends to <paramref name="metricsPath"/> and prints to <paramref name="progress"/> (unless a live terminal display shows progress instead).</summary>
    public TrainingLog(string metricsPath, TextWriter progress)
    {
        _metrics = new StreamWriter(metricsPath, append: true) { AutoFlush = true };
        _progress = progress;
        _quiet = TerminalProgress.IsAvailableFor(progress);
    }

    /// <summary>Records one step.</summary>
    public void Write(TrainingLogRecord record)
    {
        _metrics.WriteLine(JsonSerializer.Serialize(record, Json));
        if (_quiet && record.Validation is null) return;
        string eta = record.EtaSeconds is double s ? TimeSpan.FromSeconds(Math.Round(s)).ToString() : "?";
        string parts = NextToken ? "" : record.ReplacedTokenLoss is double rtd ? $" (generator {record.MaskedLmLoss:F4}, discriminator {rtd:F4})" : $" (mlm {record.MaskedLmLoss:F4}, nsp {record.NextSentenceLoss:F4})";
        string line = $"step {record.Step,7} | loss {record.Loss:F4}{parts} | lr {record.LearningRate:E2} | {record.TokensPerSecond,8:F0} tokens/s | ETA {eta}";
        if (record.SkippedSteps > 0) line += $" | skipped {record.SkippedSteps}";
        if (record.Validation is { NextToken: true } n)
            line += $"\n  validation: next-token loss {n.MaskedLmLoss:F4}, perplexity {n.Perplexity:F2}, accuracy {n.MaskedLmAccuracy:P2}, {n.BitsPerByte:F3} bits per byte";
        else if (record.Validation is { } v)
            line += $"\n  validation: {(v.ReplacedTokenAccuracy is null ? "" : "generator ")}mlm loss {v.MaskedLmLoss:F4}, perplexity {v.Perplexity:F2}, mlm accuracy {v.MaskedLmAccuracy:P2}; without [UNK] ({v.UnknownLabelShare:P1} of labels): loss {v.KnownMaskedLmLoss:F4}, accuracy {v.KnownMaskedLmAccuracy:P2}" +
                (v.NextSentenceAccuracy is double nsp ? $"; nsp accuracy {nsp:P2}" : "") +
                (v.ReplacedTokenAccuracy is double rta ? $"; discriminator loss {v.ReplacedTokenLoss:F4}, accuracy {rta:P2} ({v.ReplacedTokenShare:P1} of tokens replaced)" : "");
        _progress.WriteLine(line);
    }

    /// <summary>
    /// Drops the records after <paramref name="step"/> (a resumed run writes them again), and a last
    /// line cut short by a crash.
    /// </summary>
    public static void KeepUpTo(string metricsPath, int step)
    {
        if (!File.Exists(metricsPath)) return;
        var kept = File.ReadAllLines(metricsPath).Where(l => StepOf(l) is int s && s <= step).ToList();
        SharpLM.AtomicFile.WriteAllText(metricsPath, kept.Count == 0 ? "" : string.Join('\n', kept) + "\n");
    }

    private static int? StepOf(string line)
    {
        try { return JsonDocument.Parse(line).RootElement.GetProperty("step").GetInt32(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    /// <inheritdoc/>
    public void Dispose() => _metrics.Dispose();
}
