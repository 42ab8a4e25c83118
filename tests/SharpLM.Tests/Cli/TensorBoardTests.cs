using System.Text.Json;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;

namespace SharpLM.Tests.Cli;

/// <summary><c>--tensorboard DIR</c>: the event files hold metrics.jsonl's numbers at their steps, in valid TFRecord framing.</summary>
public class TensorBoardTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Every scalar of the event files in <paramref name="directory"/>: (tag, step) → value; checks each record's CRCs.</summary>
    internal static Dictionary<(string Tag, long Step), float> ReadScalars(string directory)
    {
        var scalars = new Dictionary<(string, long), float>();
        var files = Directory.GetFiles(directory, "events.out.tfevents.*");
        Assert.NotEmpty(files);
        foreach (string file in files)
        {
            using var reader = new BinaryReader(File.OpenRead(file));
            bool versioned = false;
            while (reader.BaseStream.Position < reader.BaseStream.Length)
            {
                byte[] header = reader.ReadBytes(8);
                Assert.Equal(Masked(TorchSharp.Utils.CRC32C.process(header)), reader.ReadUInt32());
                byte[] data = reader.ReadBytes((int)BitConverter.ToUInt64(header));
                Assert.Equal(Masked(TorchSharp.Utils.CRC32C.process(data)), reader.ReadUInt32());
                var record = Tensorboard.Event.Parser.ParseFrom(data);
                if (record.FileVersion == "brain.Event:2") versioned = true;
                if (record.Summary is null) continue;
                Assert.True(record.WallTime > 1.7e9, $"wall time {record.WallTime} is not seconds since 1970");
                foreach (var value in record.Summary.Value) scalars[(value.Tag, record.Step)] = value.SimpleValue;
            }
            Assert.True(versioned, $"{file} has no file_version record");
        }
        return scalars;
    }

    // TFRecord's CRC mask: rotate right by 15 bits and add a constant.
    private static uint Masked(uint crc) => ((crc >> 15) | (crc << 17)) + 0xa282ead8u;

    [Fact]
    public void Pretrain_writes_the_training_and_validation_scalars_of_metrics_jsonl()
    {
        var (data, config) = TestData.TinyPretrainingRun(_temp);
        string run = _temp.Of("run"), events = _temp.Of("events");
        var result = CliRun.Of("pretrain", "--data", data, "--output", run, "--config", config, "--batch-size", "8", "--max-steps", "6",
            "--log-every", "2", "--eval-every", "4", "--save-every", "100", "--tensorboard", events);
        Assert.True(result.ExitCode == 0, result.Error);
        var scalars = ReadScalars(events);
        var records = File.ReadAllLines(Path.Combine(run, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.NotEmpty(records);
        foreach (var record in records)
        {
            long step = record.GetProperty("step").GetInt64();
            Assert.Equal(record.GetProperty("loss").GetSingle(), scalars[("train/loss", step)]);
            Assert.Equal(record.GetProperty("learning_rate").GetSingle(), scalars[("train/learning_rate", step)]);
            Assert.Equal(record.GetProperty("tokens_per_second").GetSingle(), scalars[("train/tokens_per_second", step)]);
            if (record.GetProperty("validation").ValueKind == JsonValueKind.Object)
                Assert.Equal(record.GetProperty("validation").GetProperty("masked_lm_loss").GetSingle(), scalars[("validation/masked_lm_loss", step)]);
        }
        Assert.Contains(scalars.Keys, k => k.Tag == "validation/masked_lm_accuracy");
        Assert.DoesNotContain(scalars.Keys, k => k.Tag == "train/step");
    }

    [Fact]
    public void Finetune_writes_the_training_loss_and_the_dev_metrics()
    {
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count) with { MaxPositionEmbeddings = 64 };
        string model = _temp.Of("model"), events = _temp.Of("events"), output = _temp.Of("classifier");
        using (var bert = new BertForPreTraining(config)) HuggingFaceCheckpoint.Save(bert, config, vocabulary, model);
        string rows = string.Join("\n", Enumerable.Range(0, 16).Select(i => i % 2 == 0 ? $"a fine day number {i},good" : $"a bad day number {i},bad"));
        string train = _temp.Write("train.csv", "text,label\n" + rows + "\n");
        var result = CliRun.Of("finetune", "classify", "--model", model, "--train", train, "--dev", train, "--output", output,
            "--epochs", "1", "--batch-size", "4", "--max-length", "16", "--tensorboard", events);
        Assert.True(result.ExitCode == 0, result.Error);
        var scalars = ReadScalars(events);
        var records = File.ReadAllLines(Path.Combine(output, "metrics.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        foreach (var record in records)
        {
            long step = record.GetProperty("step").GetInt64();
            Assert.Equal(record.GetProperty("loss").GetSingle(), scalars[("train/loss", step)]);
            if (record.GetProperty("dev").ValueKind == JsonValueKind.Object)
                Assert.Equal(record.GetProperty("dev").GetProperty("accuracy").GetSingle(), scalars[("dev/accuracy", step)]);
        }
        Assert.Contains(scalars.Keys, k => k.Tag == "dev/accuracy");
    }
}
