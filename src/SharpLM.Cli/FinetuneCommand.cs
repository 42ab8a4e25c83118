using System.CommandLine;
using System.Text.Json;
using SharpLM.Distributed;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.RelationExtraction;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm finetune classify|ner|qa|relation</c>: fine-tunes a pretrained model folder (SharpLM's or Hugging
/// Face's) for a task. The best model by the dev metric is saved in --output (Hugging Face layout), with
/// metrics.jsonl and eval_results.json; progress goes to the error stream. Started by mpirun, it trains
/// data-parallel over the ranks; rank 0 alone evaluates and writes.
/// </summary>
public static class FinetuneCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context) => new("finetune", "Fine-tune a pretrained model: classify, ner, qa or relation.")
    {
        Classify(context), Ner(context), QuestionAnswering(context), Relation(context),
    };

    /// <summary>--negative-label of relation extraction: the label that means no relation (left out of micro-F1).</summary>
    internal static Option<string> NegativeLabelOption() =>
        new("--negative-label") { DefaultValueFactory = _ => RelationClassifier.DefaultNegativeLabel, Description = "The label meaning 'no relation', left out of micro precision, recall and F1 as TACRED scores them." };

    private static Command Relation(CommandContext context)
    {
        var common = new FineTuningCommandOptions();
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 128, Description = "Longest input in tokens; context is cut from the far ends first." };
        var negative = NegativeLabelOption();
        var command = new Command("relation", "Relation classification of entity pairs from JSON lines {\"text\", \"head\": {\"start\", \"end\"}, \"tail\": {...}, \"label\"}: entity markers added to the vocabulary, the label read from the markers that open head and tail; dev metric: micro-F1 without the negative label.")
        {
            maxLength, negative,
        };
        foreach (var option in common.All()) command.Add(option);
        command.SetAction((parse, cancellation) =>
        {
            string trainPath = parse.GetValue(common.Train)!;
            var train = RelationFile.Read(trainPath);
            var dev = parse.GetValue(common.Dev) is { } devPath ? RelationFile.Read(devPath) : null;
            var labels = RelationClassifier.LabelsOf(train.Concat(dev ?? []));
            if (labels.Count < 2) throw new InvalidInputException($"{trainPath}: only one label ('{labels[0]}'); relation classification needs at least two.");
            string negativeLabel = parse.GetValue(negative)!;
            var options = common.Options(parse);
            string output = common.OutputFolder(parse);
            TorchSharp.torch.random.manual_seed(options.Seed);
            using var classifier = RelationClassifier.FromPretrained(parse.GetValue(common.Model)!, labels, parse.GetValue(maxLength));
            context.Error.WriteLine($"relation: {train.Count} training pairs, {labels.Count} labels ({string.Join(", ", labels)}){(labels.Contains(negativeLabel) ? $", '{negativeLabel}' left out of micro-F1" : $", no '{negativeLabel}' label")}{(dev is null ? "" : $", {dev.Count} dev pairs")}");
            var trainer = new FineTuningTrainer<RelationExample>(classifier.Model, train, classifier.Loss,
                dev is null ? null : () => Metrics(classifier.Evaluate(dev, negativeLabel)), "micro_f1", () => classifier.Save(output), options, ProcessGroup.Current);
            return Task.FromResult(Run(context, trainer, output, parse.GetValue(common.TensorBoard), cancellation));
        });
        return command;
    }

    private static Command Classify(CommandContext context)
    {
        var common = new FineTuningCommandOptions();
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 128, Description = "Longest input in tokens (longer ones are truncated)." };
        var textColumn = new Option<string>("--text-column") { DefaultValueFactory = _ => "text", Description = "Column or JSON field of the text." };
        var pairColumn = new Option<string>("--text-pair-column") { DefaultValueFactory = _ => "text_pair", Description = "Column or field of the optional second text." };
        var labelColumn = new Option<string>("--label-column") { DefaultValueFactory = _ => "label", Description = "Column or field of the label." };
        var command = new Command("classify", "Text or text-pair classification from CSV, TSV or JSON lines; dev metric: accuracy (macro-F1 also reported).")
        {
            maxLength, textColumn, pairColumn, labelColumn,
        };
        var prompt = new PromptOptions();
        foreach (var option in common.All().Concat(prompt.All)) command.Add(option);
        command.SetAction((parse, cancellation) =>
        {
            var columns = new ClassificationColumns(parse.GetValue(textColumn)!, parse.GetValue(pairColumn)!, parse.GetValue(labelColumn)!);
            string trainPath = parse.GetValue(common.Train)!;
            var train = ClassificationData.Read(trainPath, columns);
            var labels = TextClassifier.LabelsOf(train);
            if (labels.Count < 2) throw new InvalidInputException($"{trainPath}: only one label ('{labels[0]}'); a classifier needs at least two.");
            var dev = parse.GetValue(common.Dev) is { } devPath ? ClassificationData.Read(devPath, columns) : null;
            var options = common.Options(parse);
            string output = common.OutputFolder(parse);
            TorchSharp.torch.random.manual_seed(options.Seed);
            if (prompt.Of(parse) is { } cloze)
            {
                // PET: no new head; the masked LM learns to put the right label's word at the mask.
                using var prompted = PromptClassifier.Load(parse.GetValue(common.Model)!, cloze, parse.GetValue(maxLength));
                prompted.CheckLabels(train, trainPath);
                if (dev is not null) prompted.CheckLabels(dev, parse.GetValue(common.Dev)!);
                context.Error.WriteLine($"classify through the prompt '{cloze.Template}': {train.Count} training examples, labels {string.Join(", ", cloze.Verbalizer.Select(v => $"{v.Label}={string.Join("|", v.Words)}"))}{(dev is null ? "" : $", {dev.Count} dev examples")}");
                var promptTrainer = new FineTuningTrainer<ClassificationExample>(prompted.Model, train, prompted.Loss,
                    dev is null ? null : () => Metrics(prompted.Evaluate(dev)), "accuracy", () => prompted.Save(output), options, ProcessGroup.Current);
                return Task.FromResult(Run(context, promptTrainer, output, parse.GetValue(common.TensorBoard), cancellation));
            }
            using var classifier = TextClassifier.FromPretrained(parse.GetValue(common.Model)!, labels, parse.GetValue(maxLength));
            context.Error.WriteLine($"classify: {train.Count} training examples, {classifier.Config.Labels.Count} labels ({string.Join(", ", classifier.Config.Labels)}){(dev is null ? "" : $", {dev.Count} dev examples")}");
            var trainer = new FineTuningTrainer<ClassificationExample>(classifier.Model, train, classifier.Loss,
                dev is null ? null : () => Metrics(classifier.Evaluate(dev)), "accuracy", () => classifier.Save(output), options, ProcessGroup.Current);
            return Task.FromResult(Run(context, trainer, output, parse.GetValue(common.TensorBoard), cancellation));
        });
        return command;
    }

    private static Command Ner(CommandContext context)
    {
        var common = new FineTuningCommandOptions();
        var maxLength = new Option<int>("--max-length") { DefaultValueFactory = _ => 128, Description = "Most tokens per chunk; longer sentences are cut into chunks of whole words." };
        var noCrf = new Option<bool>("--no-crf") { Description = "Tag each word by argmax instead of decoding with a CRF." };
        var command = new Command("ner", "Token classification (named entities or any per-word tags) from CoNLL files; dev metric: entity F1 (token accuracy also reported).")
        {
            maxLength, noCrf,
        };
        foreach (var option in common.All()) command.Add(option);
        command.SetAction((parse, cancellation) =>
        {
            var train = ConllFile.Read(parse.GetValue(common.Train)!);
            var dev = parse.GetValue(common.Dev) is { } devPath ? ConllFile.Read(devPath) : null;
            var options = common.Options(parse);
            string output = common.OutputFolder(parse);
            TorchSharp.torch.random.manual_seed(options.Seed);
            var tags = TokenTagger.TagsOf(train.Concat(dev ?? []));
            using var tagger = TokenTagger.FromPretrained(parse.GetValue(common.Model)!, tags, crf: !parse.GetValue(noCrf), parse.GetValue(maxLength));
            var chunks = tagger.Chunks(train);
            context.Error.WriteLine($"ner: {train.Count} training sentences ({chunks.Count} chunks), {tags.Count} tags, {new TagScheme(tags).Name} scheme, {(tagger.Model.Crf is null ? "argmax" : "CRF")} decoding{(dev is null ? "" : $", {dev.Count} dev sentences")}");
            var trainer = new FineTuningTrainer<TaggedChunk>(tagger.Model, chunks, tagger.Loss,
                dev is null ? null : () => Metrics(tagger.Evaluate(dev)), "f1", () => tagger.Save(output), options, ProcessGroup.Current);
            return Task.FromResult(Run(context, trainer, output, parse.GetValue(common.TensorBoard), cancellation));
        });
        return command;
    }

    private static Command QuestionAnswering(CommandContext context)
    {
        var common = new FineTuningCommandOptions();
        var (maxLength, docStride) = PredictCommand.WindowOptions();
        var command = new Command("qa", "Extractive question answering from SQuAD v1.1 or v2.0 JSON; dev metric: F1 (v2.0: the best F1 over no-answer thresholds); exact match also reported.")
        {
            maxLength, docStride,
        };
        foreach (var option in common.All()) command.Add(option);
        command.SetAction((parse, cancellation) =>
        {
            var train = SquadFile.Read(parse.GetValue(common.Train)!);
            var dev = parse.GetValue(common.Dev) is { } devPath ? SquadFile.Read(devPath) : null;
            var options = common.Options(parse);
            string output = common.OutputFolder(parse);
            TorchSharp.torch.random.manual_seed(options.Seed);
            using var answerer = QuestionAnswerer.FromPretrained(parse.GetValue(common.Model)!, parse.GetValue(maxLength), parse.GetValue(docStride));
            var windows = answerer.Windows(train);
            var search = new AnswerSpanSearch(AllowNoAnswer: train.Any(q => q.IsImpossible));
            context.Error.WriteLine($"qa: {train.Count} training questions ({windows.Count} windows){(dev is null ? "" : $", {dev.Count} dev questions")}{(search.AllowNoAnswer ? ", SQuAD 2.0 (no-answer allowed)" : "")}");
            // With no-answer questions, F1 at a fixed threshold hides progress (an undertrained model answers
            // nothing); the best F1 over thresholds, as the SQuAD 2.0 script reports it, does not.
            var trainer = new FineTuningTrainer<QuestionWindow>(answerer.Model, windows, answerer.Loss,
                dev is null ? null : () => Metrics(answerer.Evaluate(dev, search)), search.AllowNoAnswer ? "best_f1" : "f1", () => answerer.Save(output), options, ProcessGroup.Current);
            return Task.FromResult(Run(context, trainer, output, parse.GetValue(common.TensorBoard), cancellation));
        });
        return command;
    }

    /// <summary>Task metrics as the flat snake_case dictionary that the trainer compares and the verbs print.</summary>
    internal static Dictionary<string, double> Metrics(object metrics) =>
        JsonSerializer.Deserialize<Dictionary<string, double>>(JsonSerializer.Serialize(metrics, Json))!;

    /// <summary>Runs a trainer with progress, metrics.jsonl and eval_results.json in <paramref name="output"/>; prints the best dev metrics.</summary>
    internal static int Run<T>(CommandContext context, FineTuningTrainer<T> trainer, string output, string? tensorboard, CancellationToken cancellation)
    {
        if (!ProcessGroup.Current.IsRoot)
        {
            trainer.Run(cancellation);
            return 0;
        }
        if (tensorboard is not null) trainer.Logged += new TensorBoardLog(tensorboard).Write;
        string metricsPath = Path.Combine(output, "metrics.jsonl");
        // A fine-tuning run starts its log afresh (there is no resume to continue one).
        using (var log = new StreamWriter(metricsPath, append: false) { AutoFlush = true })
        {
            trainer.Logged += record =>
            {
                log.WriteLine(JsonSerializer.Serialize(record, Json));
                string eta = TimeSpan.FromSeconds(Math.Round(record.EtaSeconds)).ToString();
                context.Error.WriteLine($"epoch {record.Epoch} step {record.Step,6}/{record.TotalSteps} | loss {record.Loss:F4} | lr {record.LearningRate:E2} | {record.TokensPerSecond,7:F0} tokens/s | ETA {eta}");
                if (record.Dev is { } dev)
                    context.Error.WriteLine($"  dev: {string.Join(", ", dev.Select(p => $"{p.Key} {p.Value:0.####}"))}{(record.Best ? " (best so far: saved)" : "")}");
            };
            trainer.Run(cancellation);
        }
        if (cancellation.IsCancellationRequested) context.Error.WriteLine("stopped; the best model so far is in " + output);
        string result = JsonSerializer.Serialize(trainer.Best ?? new Dictionary<string, double>());
        if (trainer.Best is not null) AtomicFile.WriteAllText(Path.Combine(output, "eval_results.json"), result + "\n");
        context.Output.WriteLine(result);
        return 0;
    }
}
