using System.CommandLine;
using System.Globalization;
using System.Text;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Cli;

/// <summary><c>sharplm embed</c>: one JSON line of hidden states per input line.</summary>
public static class EmbedCommand
{
    private const int BatchSize = 32;

    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder (config.json, vocab.txt, model.safetensors or pytorch_model.bin), or with --engine onnx an exported folder.", Required = true };
        var input = new Option<string?>("--input") { Description = "A UTF-8 file: one text per line." };
        var pooling = new Option<string>("--pooling") { Description = "cls: the last hidden state at [CLS]; mean: the attention-masked mean; tokens: every token's.", DefaultValueFactory = _ => "cls" };
        pooling.AcceptOnlyFromAmong("cls", "mean", "tokens");
        var maxLength = new Option<int>("--max-length") { Description = "Truncate texts to this many tokens.", DefaultValueFactory = _ => 512 };
        var output = new Option<string?>("--output") { Description = "Write here instead of standard output (atomically)." };
        var text = new Argument<string?>("text") { Description = "Text to embed, when no --input is given.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("embed", "Hidden states of a BERT model as JSON lines: {\"embedding\": [...]} (cls, mean) or {\"ids\": [...], \"tokens\": [[...], ...]} (tokens).")
        {
            model, input, pooling, maxLength, output, text,
        };
        var engine = EngineOption.Create();
        command.Add(engine);
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(input), single = parse.GetValue(text);
            if ((file is null) == (single is null)) throw new InvalidInputException("embed: give either --input FILE or a TEXT argument (one of them).");
            string directory = parse.GetValue(model)!;
            using var runtime = EngineOption.Of(parse, engine) == InferenceEngine.Onnx ? OnnxRuntimeModel.Load(directory) : null;
            var config = runtime?.Config ?? BertConfig.Load(directory);
            int limit = parse.GetValue(maxLength);
            if (limit < 2 || limit > config.MaxPositionEmbeddings)
                throw new InvalidInputException($"--max-length {parse.GetValue(maxLength)}: must be between 2 and max_position_embeddings ({config.MaxPositionEmbeddings}).");
            using var bert = runtime is null ? new BertModel(config) : null;
            if (bert is not null)
            {
                var report = HuggingFaceCheckpoint.LoadDirectory(bert, config, directory);
                var encoderMissing = report.Missing.Where(n => !n.StartsWith("pooler.", StringComparison.Ordinal)).ToList();
                if (encoderMissing.Count > 0)
                    throw new InvalidInputException($"{directory}: the checkpoint lacks {encoderMissing.Count} encoder weights (first: {encoderMissing[0]}).");
                CheckpointReportLine.Write(context, directory, report);
                bert.eval();
            }
            Func<EncodedBatch, Tensor> lastHiddenState = runtime is not null
                ? batch => runtime.Run(batch, "last_hidden_state")[0]
                : batch => bert!.call(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask).LastHiddenState;
            var tokenizer = runtime?.Tokenizer ?? HuggingFaceCheckpoint.LoadTokenizer(directory);
            var lines = file is null ? [single!] : CorpusFiles.ReadSingleFile(file, "embed");
            void Write(TextWriter writer) => Embed(lastHiddenState, tokenizer, lines, parse.GetValue(pooling)!, parse.GetValue(maxLength), writer);
            string? target = parse.GetValue(output);
            if (target is null) Write(context.Output);
            else AtomicFile.WriteText(target, Write);
            return 0;
        });
        return command;
    }

    private static void Embed(Func<EncodedBatch, Tensor> lastHiddenState, Text.BertTokenizer tokenizer, IEnumerable<string> lines, string pooling, int maxLength, TextWriter writer)
    {
        foreach (var chunk in lines.Chunk(BatchSize))
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var encodings = chunk.Select(l => tokenizer.Encode(l, maxLength)).ToList();
            using var batch = new EncodedBatch(encodings, tokenizer.Vocabulary);
            var hidden = lastHiddenState(batch);
            for (int b = 0; b < encodings.Count; b++)
            {
                var line = new StringBuilder();
                switch (pooling)
                {
                    case "cls":
                        line.Append("{\"embedding\": ").Append(Vector(hidden[b, 0])).Append('}');
                        break;
                    case "mean":
                        var rows = hidden[b].narrow(0, 0, encodings[b].Length);
                        line.Append("{\"embedding\": ").Append(Vector(rows.mean([0]))).Append('}');
                        break;
                    default:
                        line.Append("{\"ids\": [").Append(string.Join(", ", encodings[b].Ids)).Append("], \"tokens\": [");
                        for (int t = 0; t < encodings[b].Length; t++) line.Append(t > 0 ? ", " : "").Append(Vector(hidden[b, t]));
                        line.Append("]}");
                        break;
                }
                writer.WriteLine(line);
            }
        }
    }

    // "R"-style shortest round-trip text of each float: at least 6 significant digits, and exact.
    private static string Vector(Tensor values) =>
        "[" + string.Join(", ", values.data<float>().ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
