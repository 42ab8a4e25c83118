using System.CommandLine;
using System.Text.Json;
using static TorchSharp.torch.utils.tensorboard;

namespace SharpLM.Cli;

/// <summary>
/// <c>--tensorboard DIR</c>: every number of a metrics.jsonl record as a TensorBoard scalar at its step, through
/// TorchSharp's SummaryWriter (TFRecord event files, one per run, in DIR). Training figures are tagged
/// <c>train/NAME</c>, validation figures <c>validation/NAME</c> and fine-tuning dev metrics <c>dev/NAME</c>, with
/// metrics.jsonl's snake_case names.
/// </summary>
internal sealed class TensorBoardLog
{
    private static readonly HashSet<string> NotScalars = ["step", "total_steps"];
    private readonly TorchSharp.Modules.SummaryWriter _writer;

    /// <summary>Creates the folder and a new event file in it.</summary>
    public TensorBoardLog(string directory)
    {
        try
        {
            _writer = SummaryWriter(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"{directory}: cannot write TensorBoard events there: {e.Message}");
        }
    }

    /// <summary>The option, shared by pretrain and finetune.</summary>
    public static Option<string?> Option() => new("--tensorboard") { Description = "Also write the scalars of metrics.jsonl as TensorBoard event files into this folder (tensorboard --logdir FOLDER)." };

    /// <summary>Writes the record's numbers at its step.</summary>
    public void Write(object record)
    {
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(record, record.GetType(), TrainingLog.Json));
        var root = document.RootElement;
        int step = root.GetProperty("step").GetInt32();
        foreach (var field in root.EnumerateObject())
        {
            if (field.Value.ValueKind == JsonValueKind.Number && !NotScalars.Contains(field.Name))
                _writer.add_scalar($"train/{field.Name}", field.Value.GetSingle(), step);
            else if (field.Value.ValueKind == JsonValueKind.Object)
                foreach (var inner in field.Value.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number))
                    _writer.add_scalar($"{field.Name}/{inner.Name}", inner.Value.GetSingle(), step);
        }
    }
}
