using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Cli;

/// <summary><c>sharplm fill-mask</c>: the most likely tokens for each [MASK] in a text.</summary>
public static class FillMaskCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder with a masked-LM head (cls.predictions.*).", Required = true };
        var topK = new Option<int>("--top-k") { Description = "Predictions per [MASK].", DefaultValueFactory = _ => 5 };
        var text = new Argument<string>("text") { Description = "Text with one or more [MASK] tokens." };
        var command = new Command("fill-mask", "Predict each [MASK]: one JSON line per mask with the top-k tokens and their probabilities.")
        {
            model, topK, text,
        };
        var engine = EngineOption.Create();
        command.Add(engine);
        command.SetAction(parse =>
        {
            string directory = parse.GetValue(model)!, input = parse.GetValue(text)!;
            int k = parse.GetValue(topK);
            using var runtime = EngineOption.Of(parse, engine) == InferenceEngine.Onnx ? OnnxRuntimeModel.Load(directory) : null;
            string? logitsOutput = runtime is null ? null
                : runtime.HasOutput("prediction_logits") ? "prediction_logits"
                : runtime.Config.Architecture is "BertForMaskedLM" or "ElectraForMaskedLM" ? "logits"
                : throw new InvalidInputException($"{runtime.File}: an exported {runtime.Config.Architecture} has no masked-LM output; export a BertForPreTraining, BertForMaskedLM or ElectraForMaskedLM folder.");
            var config = runtime?.Config ?? BertConfig.Load(directory);
            if (k < 1 || k > config.VocabSize) throw new InvalidInputException($"--top-k {k}: must be between 1 and the vocabulary size {config.VocabSize}.");
            nn.Module? module = null;
            IMaskedLanguageModel? bert = null;
            if (runtime is null)
            {
                (module, bert, var report) = MaskedLanguageModelFolder.Load(directory);
                CheckpointReportLine.Write(context, directory, report);
            }
            using var _module = module;
            var tokenizer = runtime?.Tokenizer ?? HuggingFaceCheckpoint.LoadTokenizer(directory);
            if (tokenizer.Vocabulary.MaskId < 0) throw new InvalidInputException($"{directory}: vocab.txt has no [MASK] token.");
            var encoded = tokenizer.Encode(input, maxLength: config.MaxPositionEmbeddings);
            var masks = Enumerable.Range(0, encoded.Length).Where(i => encoded.Ids[i] == tokenizer.Vocabulary.MaskId).ToList();
            if (masks.Count == 0) throw new InvalidInputException("fill-mask: the text has no [MASK] token (type it as [MASK], in capitals).");

            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var batch = new EncodedBatch([encoded], tokenizer.Vocabulary);
            // Row m holds the logits of the m-th mask (the batch has one text, so positions index it directly).
            using var positions = tensor(masks.Select(p => (long)p).ToArray());
            var logits = runtime is null
                ? bert!.MaskedLmLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, positions)
                : runtime.Run(batch, logitsOutput!)[0][0].index_select(0, positions);
            for (int m = 0; m < masks.Count; m++)
            {
                var probabilities = logits[m].softmax(-1);
                var (values, indices) = probabilities.topk(k);
                float[] scores = values.data<float>().ToArray();
                long[] ids = indices.data<long>().ToArray();
                var predictions = ids.Select((id, i) =>
                {
                    var filled = (int[])encoded.Ids.Clone();
                    filled[masks[m]] = (int)id;
                    return new Dictionary<string, object>
                    {
                        ["token"] = id,
                        ["token_str"] = tokenizer.Vocabulary[(int)id],
                        ["score"] = double.Parse(scores[i].ToString("R", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture),
                        ["sequence"] = tokenizer.Decode(filled),
                    };
                });
                context.Output.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object> { ["mask"] = m, ["position"] = masks[m], ["predictions"] = predictions }));
            }
            return 0;
        });
        return command;
    }
}
