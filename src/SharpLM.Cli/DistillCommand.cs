using System.CommandLine;
using System.Diagnostics;
using SharpLM.Data;
using SharpLM.Distributed;
using SharpLM.Model;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm distill classify|ner</c>: task distillation. A fine-tuned teacher scores the training data (and unlabelled
/// transfer text) once; a smaller student, a pretrained folder or a preset size with random weights, is fine-tuned on
/// the teacher's softened scores mixed with the gold labels (<see cref="DistillationLoss"/>). The student is saved, as
/// <c>finetune</c> saves a model, with the best dev metric kept.
/// </summary>
public static class DistillCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context) => new("distill", "Distil a fine-tuned teacher into a smaller student: classify or ner.")
    {
        Classify(context), Ner(context),
    };

    /// <summary>The options of both tasks beyond fine-tuning's.</summary>
    private sealed class Options
    {
        public readonly Option<string> Teacher = new("--teacher") { Description = "The fine-tuned teacher's model folder.", Required = true };
        public readonly Option<string?> Student = new("--student") { Description = "A pretrained (smaller) model folder to start the student from." };
        public readonly Option<string?> StudentPreset = new("--student-preset") { Description = "Instead of --student: a new model of this size (tiny, mini, small, medium, base) with random weights and the teacher's vocabulary." };
        public readonly Option<string?> Transfer = new("--transfer") { Description = "Unlabelled text the teacher labels for the student, beside --train." };
        public readonly Option<double> Temperature = new("--temperature") { Description = "Softens both distributions (KL term scaled by T^2).", DefaultValueFactory = _ => new DistillationLoss().Temperature };
        public readonly Option<double> Alpha = new("--alpha") { Description = "Weight of the teacher's term; the gold labels get 1 - alpha.", DefaultValueFactory = _ => new DistillationLoss().Alpha };
        public readonly Option<int> MaxLength = new("--max-length") { DefaultValueFactory = _ => 128, Description = "Longest input of the student in tokens (the teacher reads at the length it was fine-tuned at)." };

        public IEnumerable<Option> All => [Teacher, Student, StudentPreset, Transfer, Temperature, Alpha, MaxLength];

        public DistillationLoss Loss(ParseResult parse) => new DistillationLoss(parse.GetValue(Temperature), parse.GetValue(Alpha)).Validate();

        /// <summary>The student's folder, or its preset; exactly one of them.</summary>
        public (string? Folder, string? Preset) StudentOf(ParseResult parse)
        {
            string? folder = parse.GetValue(Student), preset = parse.GetValue(StudentPreset);
            if ((folder is null) == (preset is null)) throw new InvalidInputException("give the student as --student FOLDER or --student-preset NAME (one of them).");
            if (preset is not null) BertConfig.Preset(preset);
            return (folder, preset);
        }
    }

    private static Command Classify(CommandContext context)
    {
        var common = new FineTuningCommandOptions();
        var distill = new Options();
        var textColumn = new Option<string>("--text-column") { DefaultValueFactory = _ => "text", Description = "Column or JSON field of the text." };
        var pairColumn = new Option<string>("--text-pair-column") { DefaultValueFactory = _ => "text_pair", Description = "Column or field of the optional second text." };
        var labelColumn = new Option<string>("--label-column") { DefaultValueFactory = _ => "label", Description = "Column or field of the label." };
        var command = new Command("classify", "Distil a text classifier (CSV, TSV or JSON lines, as finetune classify reads them); dev metric: accuracy.")
        {
            textColumn, pairColumn, labelColumn,
        };
        foreach (var option in distill.All.Concat(common.All(model: false))) command.Add(option);
        command.SetAction((parse, cancellation) =>
        {
            var columns = new ClassificationColumns(parse.GetValue(textColumn)!, parse.GetValue(pairColumn)!, parse.GetValue(labelColumn)!);
            var train = ClassificationData.Read(parse.GetValue(common.Train)!, columns);
            var dev = parse.GetValue(common.Dev) is { } devPath ? ClassificationData.Read(devPath, columns) : null;
            var transfer = parse.GetValue(distill.Transfer) is { } transferPath ? ClassificationData.Read(transferPath, columns, requireLabels: false) : [];
            var (studentFolder, preset) = distill.StudentOf(parse);
            var loss = distill.Loss(parse);
            var options = common.Options(parse);
            string output = common.OutputFolder(parse);
            int maxLength = parse.GetValue(distill.MaxLength);
            string teacherFolder = parse.GetValue(distill.Teacher)!;
            List<DistilledExample> examples;
            IReadOnlyList<string> labels;
            Text.BertTokenizer teacherTokenizer;
            var clock = Stopwatch.StartNew();
            using (var teacher = TextClassifier.Load(teacherFolder))
            {
                if (train.FirstOrDefault(e => !teacher.Config.Labels.Contains(e.Label!)) is { } stranger)
                    throw new InvalidInputException($"{parse.GetValue(common.Train)}: label '{stranger.Label}' is not one of the teacher's ({string.Join(", ", teacher.Config.Labels)}).");
                examples = ClassifierDistillation.Examples(teacher, train, transfer);
                (labels, teacherTokenizer) = (teacher.Config.Labels, teacher.Tokenizer);
            }
            context.Error.WriteLine($"distill classify: the teacher scored {train.Count} training and {transfer.Count} transfer examples in {clock.Elapsed.TotalSeconds:F0} s; labels {string.Join(", ", labels)}");
            TorchSharp.torch.random.manual_seed(options.Seed);
            using var student = studentFolder is not null ? TextClassifier.FromPretrained(studentFolder, labels, maxLength)
                : TextClassifier.Create(BertConfig.Preset(preset!, teacherTokenizer.Vocabulary.Count) with { Labels = labels }, teacherTokenizer, maxLength);
            context.Error.WriteLine($"student: {student.Config.NumHiddenLayers}x{student.Config.HiddenSize} ({student.Model.parameters().Sum(p => p.numel()):N0} parameters), T {loss.Temperature}, alpha {loss.Alpha}");
            var trainer = new FineTuningTrainer<DistilledExample>(student.Model, examples, batch => ClassifierDistillation.Loss(student, batch, loss),
                dev is null ? null : () => FinetuneCommand.Metrics(student.Evaluate(dev)), "accuracy", () => student.Save(output), options, ProcessGroup.Current);
            return Task.FromResult(FinetuneCommand.Run(context, trainer, output, parse.GetValue(common.TensorBoard), cancellation));
        });
        return command;
    }

    private static Command Ner(CommandContext context)
    {
        var common = new FineTuningCommandOptions();
        var distill = new Options();
        var noCrf = new Option<bool>("--no-crf") { Description = "The student tags by argmax instead of decoding with a CRF." };
        var command = new Command("ner", "Distil a tagger (CoNLL files; --transfer: a text file, one sentence per line); dev metric: entity F1.") { noCrf };
        foreach (var option in distill.All.Concat(common.All(model: false))) command.Add(option);
        command.SetAction((parse, cancellation) =>
        {
            var train = ConllFile.Read(parse.GetValue(common.Train)!);
            var dev = parse.GetValue(common.Dev) is { } devPath ? ConllFile.Read(devPath) : null;
            var (studentFolder, preset) = distill.StudentOf(parse);
            var loss = distill.Loss(parse);
            var options = common.Options(parse);
            string output = common.OutputFolder(parse);
            int maxLength = parse.GetValue(distill.MaxLength);
            var clock = Stopwatch.StartNew();
            TokenTagger student;
            List<DistilledChunk> chunks;
            IReadOnlyList<string> tags;
            int transferCount;
            // The teacher is needed only until it has scored the data: it is let go before the student trains.
            using (var teacher = TokenTagger.Load(parse.GetValue(distill.Teacher)!))
            {
                var transfer = parse.GetValue(distill.Transfer) is { } transferPath
                    ? CorpusFiles.ReadSingleFile(transferPath, "distill ner").Select(line => (IReadOnlyList<string>)teacher.WordOffsets(line).Select(w => line[w.Start..w.End]).ToList())
                        .Where(words => words.Count > 0).ToList()
                    : [];
                (tags, transferCount) = (teacher.Config.Labels, transfer.Count);
                TorchSharp.torch.random.manual_seed(options.Seed);
                student = studentFolder is not null ? TokenTagger.FromPretrained(studentFolder, tags, crf: !parse.GetValue(noCrf), maxLength)
                    : TokenTagger.Create(BertConfig.Preset(preset!, teacher.Tokenizer.Vocabulary.Count) with { Labels = tags, Crf = !parse.GetValue(noCrf) }, teacher.Tokenizer, maxLength);
                try { chunks = TaggerDistillation.Chunks(teacher, student, train, transfer); }
                catch
                {
                    student.Dispose();
                    throw;
                }
            }
            using var owned = student;
            context.Error.WriteLine($"distill ner: the teacher scored {train.Count} training and {transferCount} transfer sentences in {clock.Elapsed.TotalSeconds:F0} s; {tags.Count} tags; " +
                $"student {student.Config.NumHiddenLayers}x{student.Config.HiddenSize} ({student.Model.parameters().Sum(p => p.numel()):N0} parameters, {(student.Model.Crf is null ? "argmax" : "CRF")}), T {loss.Temperature}, alpha {loss.Alpha}");
            var trainer = new FineTuningTrainer<DistilledChunk>(student.Model, chunks, batch => TaggerDistillation.Loss(student, batch, loss),
                dev is null ? null : () => FinetuneCommand.Metrics(student.Evaluate(dev)), "f1", () => student.Save(output), options, ProcessGroup.Current);
            return Task.FromResult(FinetuneCommand.Run(context, trainer, output, parse.GetValue(common.TensorBoard), cancellation));
        });
        return command;
    }
}
