using System.CommandLine;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm eval</c>: masked-LM loss, perplexity and accuracy, NSP accuracy of a model on held-out data, as one JSON object;
/// for a causal model, next-token loss, perplexity, accuracy and bits per byte.
/// </summary>
public static class EvalCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder with pretraining heads.", Required = true };
        var data = new Option<string?>("--data") { Description = "A prepared-data folder: its validation split is evaluated." };
        var corpus = new Option<string[]>("--corpus") { Description = $"Raw corpus files or folders, prepared with the model's vocabulary (seed 12345, one pass) and evaluated whole: {TextFieldOption.Formats}.", AllowMultipleArgumentsPerToken = true };
        var textField = TextFieldOption.Create();
        var noNsp = new Option<bool>("--no-nsp") { Description = "With --corpus: cut the text into single packed segments (as data prepare --no-nsp) instead of sentence pairs." };
        var cloze = new Option<string?>("--cloze") { Description = "A cloze probe (one '[MASK] text<TAB>answer' per line): top-1 and top-k hit rates of the answers that are one token." };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 10, Description = "k of the cloze top-k hit rate." };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 32, Description = "Examples per batch." };
        var blockSize = new Option<int>("--block-size") { DefaultValueFactory = _ => 128, Description = "Causal models: tokens per window evaluated (as pretrain's --block-size)." };
        var maxWindows = new Option<int>("--max-windows") { Description = "Causal models: evaluate only the first N windows (0: all)." };
        var command = new Command("eval", "Evaluate a pretrained model: {\"mlm_loss\", \"perplexity\", \"mlm_accuracy\", \"unk_label_share\", \"known_mlm_loss\", \"known_mlm_accuracy\", \"nsp_loss\", \"nsp_accuracy\", \"examples\"}.")
        {
            model, data, corpus, textField, noNsp, cloze, topK, batchSize, blockSize, maxWindows,
        };
        command.SetAction(parse =>
        {
            string directory = parse.GetValue(model)!;
            string? dataFolder = parse.GetValue(data);
            string[] corpusPaths = parse.GetValue(corpus) ?? [];
            string? clozePath = parse.GetValue(cloze);
            if (dataFolder is not null && corpusPaths.Length > 0) throw new InvalidInputException("eval: give --data DIR or --corpus PATH..., not both.");
            if (dataFolder is null && corpusPaths.Length == 0 && clozePath is null) throw new InvalidInputException("eval: give --data DIR, --corpus PATH... or --cloze FILE.");
            if (parse.GetValue(topK) < 1) throw new InvalidInputException($"--top-k {parse.GetValue(topK)}: must be at least 1.");
            if (LlamaConfig.IsLlamaFolder(directory))
            {
                if (clozePath is not null) throw new InvalidInputException($"{directory}: --cloze probes a masked LM; this is a causal model.");
                context.Output.WriteLine(JsonSerializer.Serialize(EvaluateCausal(directory, dataFolder, corpusPaths, parse.GetValue(textField)!, parse.GetValue(blockSize), parse.GetValue(batchSize), parse.GetValue(maxWindows))));
                return 0;
            }
            var questions = clozePath is null ? null : ClozeEvaluation.Read(clozePath);
            var config = BertConfig.Load(directory);
            var (module, bert, report) = MaskedLanguageModelFolder.Load(directory);
            using var _module = module;
            if (report.Missing.Count > 0) throw new InvalidInputException($"{directory}: the checkpoint lacks {report.Missing.Count} weights (first: {report.Missing[0]}); eval needs the pretraining heads.");
            var tokenizer = HuggingFaceCheckpoint.LoadTokenizer(directory);
            var result = new Dictionary<string, object?>();
            if (questions is not null)
            {
                var probe = ClozeEvaluation.Run(module, bert, tokenizer, questions, parse.GetValue(topK), parse.GetValue(batchSize));
                result["cloze_top1"] = probe.Top1;
                result[$"cloze_top{probe.K}"] = probe.TopK;
                result["cloze_questions"] = probe.Questions;
                result["cloze_skipped"] = probe.Skipped;
            }
            if (dataFolder is null && corpusPaths.Length == 0)
            {
                context.Output.WriteLine(JsonSerializer.Serialize(result));
                return 0;
            }
            string? temporary = null;
            string split = "validation";
            try
            {
                if (dataFolder is null)
                {
                    temporary = dataFolder = Path.Combine(Path.GetTempPath(), $"sharplm-eval-{Environment.ProcessId}-{Guid.NewGuid():N}");
                    new PretrainingDataWriter(tokenizer, new PretrainingDataOptions(MaxSeqLength: Math.Min(128, config.MaxPositionEmbeddings), DupeFactor: 1, ValidationFraction: 0, NextSentence: !parse.GetValue(noNsp)))
                        .Write(corpusPaths, dataFolder, parse.GetValue(textField)!);
                    split = "train";
                }
                using var batches = new PretrainingBatches(dataFolder, split, tokenizer.Vocabulary, seed: 0);
                if (batches.Count == 0) throw new InvalidInputException($"{dataFolder}: the {split} split is empty.");
                var metrics = Evaluation.Run(bert, batches, parse.GetValue(batchSize));
                var masked = new Dictionary<string, object?>
                {
                    ["mlm_loss"] = metrics.MaskedLmLoss, ["perplexity"] = metrics.Perplexity, ["mlm_accuracy"] = metrics.MaskedLmAccuracy,
                    ["unk_label_share"] = metrics.UnknownLabelShare, ["known_mlm_loss"] = metrics.KnownMaskedLmLoss, ["known_mlm_accuracy"] = metrics.KnownMaskedLmAccuracy,
                    ["nsp_loss"] = metrics.NextSentenceLoss, ["nsp_accuracy"] = metrics.NextSentenceAccuracy, ["examples"] = metrics.Examples,
                };
                context.Output.WriteLine(JsonSerializer.Serialize(masked.Concat(result).ToDictionary()));
            }
            finally
            {
                if (temporary is not null && Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            }
            return 0;
        });
        return command;
    }

    // Next-token figures of a causal model over a prepared folder's validation split, or a corpus prepared whole.
    private static Dictionary<string, object?> EvaluateCausal(string directory, string? dataFolder, string[] corpusPaths, string textField, int blockSize, int batchSize, int maxWindows)
    {
        var (model, tokenizer) = LlamaCheckpoint.Load(directory);
        using var _ = model;
        // The options are checked before a corpus is prepared for them.
        if (blockSize > model.Config.MaxPositionEmbeddings)
            throw new InvalidInputException($"--block-size {blockSize} is longer than the model's max_position_embeddings ({model.Config.MaxPositionEmbeddings}).");
        if (maxWindows < 0) throw new InvalidInputException($"--max-windows {maxWindows}: must be zero (all) or positive.");
        string? temporary = null;
        string split = "validation";
        try
        {
            if (dataFolder is null)
            {
                temporary = dataFolder = Path.Combine(Path.GetTempPath(), $"sharplm-eval-{Environment.ProcessId}-{Guid.NewGuid():N}");
                new CausalDataWriter(tokenizer, validationFraction: 0).Write(corpusPaths, dataFolder, textField);
                split = "train";
            }
            using var windows = new CausalTokenWindows(dataFolder, split, tokenizer, blockSize, seed: 0);
            if (windows.Count == 0) throw new InvalidInputException($"{dataFolder}: the {split} split has fewer tokens than one window of --block-size {blockSize}.");
            // Whole batches of the size asked for, as training's evaluation reads them; the last may be cut short by the limit.
            var metrics = new CausalLmObjective(model, tokenizer).Evaluate(windows.First(maxWindows), batchSize, maxBatches: 0);
            return new Dictionary<string, object?>
            {
                ["loss"] = metrics.MaskedLmLoss, ["perplexity"] = metrics.Perplexity, ["accuracy"] = metrics.MaskedLmAccuracy, ["bits_per_byte"] = metrics.BitsPerByte,
                ["windows"] = metrics.Examples, ["predicted_tokens"] = metrics.Examples * (blockSize - 1), ["block_size"] = blockSize,
            };
        }
        finally
        {
            if (temporary is not null && Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        }
    }
}
