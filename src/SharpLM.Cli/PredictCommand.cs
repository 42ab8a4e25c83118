using System.CommandLine;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Interop.Onnx;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.RelationExtraction;
using SharpLM.Tasks.TokenClassification;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm predict classify|ner|qa|relation</c>: runs a fine-tuned model and prints one JSON line per input,
/// with the fields of Hugging Face's pipelines (label/score; entity_group/word/start/end/score;
/// answer/score/start/end).
/// </summary>
public static class PredictCommand
{
    /// <summary>How the pipelines' results are printed (predict, fill-mask): Hugging Face's snake_case fields, text unescaped.</summary>
    internal static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context) => new("predict", "Run a fine-tuned model: classify, ner, qa or relation.")
    {
        Classify(context), Ner(context), QuestionAnswering(context), Relation(context),
    };

    private static Command Relation(CommandContext context)
    {
        var model = ModelOption();
        var input = new Option<string?>("--input") { Description = "JSON lines {\"text\", \"head\": {\"start\", \"end\"}, \"tail\": {\"start\", \"end\"}} (character offsets), or a .txt file of marked texts, one per line." };
        var text = new Argument<string?>("text") { Description = "A text with the head marked [E1]...[/E1] and the tail [E2]...[/E2] (instead of --input).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("relation", "Print {\"label\", \"score\"} per entity pair.") { model, input, text };
        command.SetAction(parse =>
        {
            var examples = Inputs(parse.GetValue(input), parse.GetValue(text), "predict relation", path => RelationFile.Read(path, requireLabels: false), RelationFile.Parse);
            using var classifier = RelationClassifier.Load(parse.GetValue(model)!);
            foreach (var prediction in classifier.Predict(examples)) context.Output.WriteLine(JsonSerializer.Serialize(prediction, Json));
            return 0;
        });
        return command;
    }

    private static Option<string> ModelOption() => new("--model") { Description = "Fine-tuned model folder (or, with --engine onnx, its exported folder).", Required = true };

    private static Command Classify(CommandContext context)
    {
        var model = ModelOption();
        var input = new Option<string?>("--input") { Description = "A .txt file (one text per line), or CSV/TSV/JSON lines with a text column (and text_pair)." };
        var text = new Argument<string?>("text") { Description = "A text to classify (instead of --input).", Arity = ArgumentArity.ZeroOrOne };
        var engine = EngineOption.Create();
        var prompt = new PromptOptions();
        var command = new Command("classify", "Print {\"label\", \"score\"} per input: with a fine-tuned classifier, or with a masked LM through a cloze prompt (--prompt, --verbalizer).")
        {
            model, input, text, engine,
        };
        foreach (var option in prompt.All) command.Add(option);
        command.SetAction(parse =>
        {
            var examples = Inputs(parse.GetValue(input), parse.GetValue(text), "predict classify",
                path => ClassificationData.Read(path, requireLabels: false), line => new ClassificationExample(line, null, null));
            string folder = parse.GetValue(model)!;
            List<PredictedLabel> predictions;
            if (prompt.Applies(parse, folder))
            {
                using var prompted = PromptClassifier.Load(folder, prompt.Of(parse));
                predictions = prompted.Predict(examples);
            }
            else
            {
                using var classifier = TextClassifier.Load(folder, engine: EngineOption.Of(parse, engine));
                predictions = classifier.Predict(examples);
            }
            foreach (var prediction in predictions) context.Output.WriteLine(JsonSerializer.Serialize(prediction, Json));
            return 0;
        });
        return command;
    }

    private static Command Ner(CommandContext context)
    {
        var model = ModelOption();
        var input = new Option<string?>("--input") { Description = "A .txt file: one text per line." };
        var text = new Argument<string?>("text") { Description = "A text to tag (instead of --input).", Arity = ArgumentArity.ZeroOrOne };
        var engine = EngineOption.Create();
        var command = new Command("ner", "Print the entities of each input as a JSON array of {\"entity_group\", \"word\", \"start\", \"end\", \"score\"}; offsets are characters of the input.")
        {
            model, input, text, engine,
        };
        command.SetAction(parse =>
        {
            var texts = Inputs(parse.GetValue(input), parse.GetValue(text), "predict ner", path => CorpusFiles.ReadSingleFile(path, "predict ner").ToList(), line => line);
            using var tagger = TokenTagger.Load(parse.GetValue(model)!, engine: EngineOption.Of(parse, engine));
            foreach (string line in texts) context.Output.WriteLine(JsonSerializer.Serialize(tagger.PredictText(line), Json));
            return 0;
        });
        return command;
    }

    private static Command QuestionAnswering(CommandContext context)
    {
        var model = ModelOption();
        var question = new Option<string?>("--question") { Description = "The question." };
        var contextText = new Option<string?>("--context") { Description = "The text that holds the answer." };
        var input = new Option<string?>("--input") { Description = "A SQuAD JSON file: one line {\"id\", \"answer\", ...} per question." };
        var noAnswer = new Option<bool>("--allow-no-answer") { Description = "SQuAD 2.0: answer nothing when the null score wins." };
        var (maxLength, docStride) = WindowOptions();
        var threshold = NullThresholdOption();
        var engine = EngineOption.Create();
        var command = new Command("qa", "Print {\"answer\", \"score\", \"start\", \"end\"}: the answer span with character offsets in the context.")
        {
            model, question, contextText, input, noAnswer, maxLength, docStride, threshold, engine,
        };
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(input);
            List<SquadQuestion> questions;
            if (file is not null) questions = SquadFile.Read(file);
            else if (parse.GetValue(question) is { Length: > 0 } q && parse.GetValue(contextText) is { Length: > 0 } c) questions = [new SquadQuestion("0", q, c, [], false)];
            else throw new InvalidInputException("predict qa: give --question and --context, or --input FILE.");
            using var answerer = QuestionAnswerer.Load(parse.GetValue(model)!, parse.GetValue(maxLength), parse.GetValue(docStride), EngineOption.Of(parse, engine));
            var answers = answerer.Predict(questions, new AnswerSpanSearch(AllowNoAnswer: parse.GetValue(noAnswer), NullThreshold: parse.GetValue(threshold)));
            for (int i = 0; i < questions.Count; i++)
            {
                var a = answers[i];
                object line = file is null
                    ? new { answer = a.Text, score = a.Score, start = a.Start, end = a.End }
                    : new { id = questions[i].Id, answer = a.Text, score = a.Score, start = a.Start, end = a.End };
                context.Output.WriteLine(JsonSerializer.Serialize(line, Json));
            }
            return 0;
        });
        return command;
    }

    /// <summary>--max-length and --doc-stride of question answering, with Hugging Face's defaults (384 and 128).</summary>
    internal static (Option<int> MaxLength, Option<int> DocStride) WindowOptions() =>
        (new Option<int>("--max-length") { DefaultValueFactory = _ => 384, Description = "Tokens per window (at most the model's positions)." },
         new Option<int>("--doc-stride") { DefaultValueFactory = _ => 128, Description = "Context tokens shared by consecutive windows (at most half a window)." });

    /// <summary>--null-threshold of SQuAD 2.0 models (Google's null_score_diff_threshold).</summary>
    internal static Option<double> NullThresholdOption() =>
        new("--null-threshold") { Description = "Answer nothing when the null score beats the best span by more than this (tune it on dev: evaluate qa prints best_f1_threshold)." };

    /// <summary>The inputs: the text argument, or the lines of a .txt file, or the examples of a data file.</summary>
    private static List<T> Inputs<T>(string? path, string? text, string verb, Func<string, List<T>> readFile, Func<string, T> fromLine)
    {
        if ((path is null) == (text is null)) throw new InvalidInputException($"{verb}: give a text or --input FILE (one of them).");
        if (text is not null) return [fromLine(text)];
        if (Path.GetExtension(path!).Equals(".txt", StringComparison.OrdinalIgnoreCase))
            return CorpusFiles.ReadSingleFile(path!, verb).Where(l => l.Length > 0).Select(fromLine).ToList();
        return readFile(path!);
    }
}
