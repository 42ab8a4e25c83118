using System.CommandLine;
using System.Globalization;
using SharpLM.Data;
using SharpLM.Tasks.Embeddings;

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
        var normalize = new Option<bool>("--normalize") { Description = "Scale each cls or mean vector to unit length (sentence-transformers' Normalize), so that dot products are cosines." };
        var output = new Option<string?>("--output") { Description = "Write here instead of standard output (atomically)." };
        var text = new Argument<string?>("text") { Description = "Text to embed, when no --input is given.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("embed", "Hidden states of a BERT model as JSON lines: {\"embedding\": [...]} (cls, mean) or {\"ids\": [...], \"tokens\": [[...], ...]} (tokens).")
        {
            model, input, pooling, maxLength, normalize, output, text,
        };
        var engine = EngineOption.Create();
        command.Add(engine);
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(input), single = parse.GetValue(text);
            if ((file is null) == (single is null)) throw new InvalidInputException("embed: give either --input FILE or a TEXT argument (one of them).");
            string directory = parse.GetValue(model)!;
            using var embedder = TextEmbedder.Load(directory, EngineOption.Of(parse, engine));
            int limit = parse.GetValue(maxLength);
            if (limit < 2 || limit > embedder.MaxLength)
                throw new InvalidInputException($"--max-length {limit}: must be between 2 and max_position_embeddings ({embedder.MaxLength}).");
            if (embedder.LoadReport is { } report) CheckpointReportLine.Write(context, directory, report);
            var lines = file is null ? [single!] : CorpusFiles.ReadSingleFile(file, "embed");
            string mode = parse.GetValue(pooling)!;
            bool unit = parse.GetValue(normalize);
            void Write(TextWriter writer)
            {
                foreach (var chunk in lines.Chunk(BatchSize))
                {
                    if (mode == "tokens")
                        foreach (var (encoding, states) in embedder.TokenStates(chunk, limit))
                            writer.WriteLine($"{{\"ids\": [{string.Join(", ", encoding.Ids)}], \"tokens\": [{string.Join(", ", states.Select(Vector))}]}}");
                    else
                        foreach (var vector in embedder.Embed(chunk, mode == "cls" ? EmbeddingPooling.Cls : EmbeddingPooling.Mean, unit, limit))
                            writer.WriteLine($"{{\"embedding\": {Vector(vector)}}}");
                }
            }
            string? target = parse.GetValue(output);
            if (target is null) Write(context.Output);
            else AtomicFile.WriteText(target, Write);
            return 0;
        });
        return command;
    }

    // "R"-style shortest round-trip text of each float: at least 6 significant digits, and exact.
    private static string Vector(float[] values) =>
        "[" + string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "]";
}
