using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
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
        command.SetAction(parse =>
        {
            string directory = parse.GetValue(model)!, input = parse.GetValue(text)!;
            int k = parse.GetValue(topK);
            var config = BertConfig.Load(directory);
            if (k < 1 || k > config.VocabSize) throw new InvalidInputException($"--top-k {k}: must be between 1 and the vocabulary size {config.VocabSize}.");
            using var bert = new BertForPreTraining(config);
            var report = HuggingFaceCheckpoint.LoadDirectory(bert, config, directory);
            var headMissing = report.Missing.Where(n => n.StartsWith("cls.predictions.", StringComparison.Ordinal)).ToList();
            if (headMissing.Count > 0)
                throw new InvalidInputException($"{directory}: the checkpoint has no masked-LM head ({headMissing[0]} is missing); fill-mask needs a pretrained BertForPreTraining or BertForMaskedLM.");
            var encoderMissing = report.Missing.Where(n => n.StartsWith("bert.", StringComparison.Ordinal) && !n.StartsWith("bert.pooler.", StringComparison.Ordinal)).ToList();
            if (encoderMissing.Count > 0)
                throw new InvalidInputException($"{directory}: the checkpoint lacks {encoderMissing.Count} encoder weights (first: {encoderMissing[0]}).");
            CheckpointReportLine.Write(context, directory, report);
            bert.eval();
            var tokenizer = HuggingFaceCheckpoint.LoadTokenizer(directory);
            if (tokenizer.Vocabulary.MaskId < 0) throw new InvalidInputException($"{directory}: vocab.txt has no [MASK] token.");
            var encoded = tokenizer.Encode(input, maxLength: config.MaxPositionEmbeddings);
            var masks = Enumerable.Range(0, encoded.Length).Where(i => encoded.Ids[i] == tokenizer.Vocabulary.MaskId).ToList();
            if (masks.Count == 0) throw new InvalidInputException("fill-mask: the text has no [MASK] token (type it as [MASK], in capitals).");

            using var scope = NewDisposeScope();
            using var _ = no_grad();
            using var batch = new EncodedBatch([encoded], tokenizer.Vocabulary);
            var (logits, _) = bert.call(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
            for (int m = 0; m < masks.Count; m++)
            {
                var probabilities = logits[0, masks[m]].softmax(-1);
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
