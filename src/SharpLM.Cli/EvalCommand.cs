using System.CommandLine;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary><c>sharplm eval</c>: masked-LM loss, perplexity and accuracy, NSP accuracy of a model on held-out data, as one JSON object.</summary>
public static class EvalCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var model = new Option<string>("--model") { Description = "Model folder with pretraining heads.", Required = true };
        var data = new Option<string?>("--data") { Description = "A prepared-data folder: its validation split is evaluated." };
        var corpus = new Option<string[]>("--corpus") { Description = "Raw text files or folders, prepared with the model's vocabulary (seed 12345, one pass) and evaluated whole.", AllowMultipleArgumentsPerToken = true };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 32, Description = "Examples per batch." };
        var command = new Command("eval", "Evaluate a pretrained model: {\"mlm_loss\", \"perplexity\", \"mlm_accuracy\", \"nsp_loss\", \"nsp_accuracy\", \"examples\"}.")
        {
            model, data, corpus, batchSize,
        };
        command.SetAction(parse =>
        {
            string directory = parse.GetValue(model)!;
            string? dataFolder = parse.GetValue(data);
            string[] corpusPaths = parse.GetValue(corpus) ?? [];
            if ((dataFolder is null) == (corpusPaths.Length == 0)) throw new InvalidInputException("eval: give either --data DIR or --corpus PATH... (one of them).");
            var config = BertConfig.Load(directory);
            using var bert = new BertForPreTraining(config);
            var report = HuggingFaceCheckpoint.LoadDirectory(bert, config, directory);
            if (report.Missing.Count > 0) throw new InvalidInputException($"{directory}: the checkpoint lacks {report.Missing.Count} weights (first: {report.Missing[0]}); eval needs the pretraining heads.");
            bert.eval();
            var tokenizer = HuggingFaceCheckpoint.LoadTokenizer(directory);
            string? temporary = null;
            string split = "validation";
            try
            {
                if (dataFolder is null)
                {
                    temporary = dataFolder = Path.Combine(Path.GetTempPath(), $"sharplm-eval-{Environment.ProcessId}-{Guid.NewGuid():N}");
                    new PretrainingDataWriter(tokenizer, new PretrainingDataOptions(MaxSeqLength: Math.Min(128, config.MaxPositionEmbeddings), DupeFactor: 1, ValidationFraction: 0))
                        .Write(corpusPaths, dataFolder);
                    split = "train";
                }
                using var batches = new PretrainingBatches(dataFolder, split, tokenizer.Vocabulary, seed: 0);
                if (batches.Count == 0) throw new InvalidInputException($"{dataFolder}: the {split} split is empty.");
                var metrics = Evaluation.Run(bert, batches, parse.GetValue(batchSize));
                context.Output.WriteLine(JsonSerializer.Serialize(new
                {
                    mlm_loss = metrics.MaskedLmLoss, perplexity = metrics.Perplexity, mlm_accuracy = metrics.MaskedLmAccuracy,
                    nsp_loss = metrics.NextSentenceLoss, nsp_accuracy = metrics.NextSentenceAccuracy, examples = metrics.Examples,
                }));
            }
            finally
            {
                if (temporary is not null && Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
            }
            return 0;
        });
        return command;
    }
}
