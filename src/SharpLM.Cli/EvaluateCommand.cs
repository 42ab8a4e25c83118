using System.CommandLine;
using System.Text.Json;
using SharpLM.Interop.Onnx;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.RelationExtraction;
using SharpLM.Tasks.TokenClassification;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm evaluate classify|ner|qa</c>: scores a fine-tuned model on labelled data and prints the
/// metrics as one JSON object (accuracy and macro-F1; entity precision, recall, F1 and token accuracy;
/// SQuAD exact match and F1). Pretrained (masked-LM) models are scored by <c>sharplm eval</c>, or as classifiers
/// through a cloze prompt (--prompt, --verbalizer; a prompt-tuned folder keeps its own).
/// </summary>
public static class EvaluateCommand
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context) => new("evaluate", "Score a fine-tuned model on labelled data: classify, ner, qa or relation.")
    {
        Classify(context),
        Relation(context),
        Task(context, "ner", "CoNLL file.", (model, data, _, engine, _) =>
        {
            using var tagger = TokenTagger.Load(model, engine: engine);
            return tagger.Evaluate(ConllFile.Read(data));
        }),
        Task(context, "qa", "SQuAD v1.1 or v2.0 JSON (no-answer is allowed when the file has impossible questions).", (model, data, window, engine, _) =>
        {
            var questions = SquadFile.Read(data);
            using var answerer = QuestionAnswerer.Load(model, window.MaxLength, window.DocStride, engine);
            return answerer.Evaluate(questions, new AnswerSpanSearch(AllowNoAnswer: questions.Any(q => q.IsImpossible), NullThreshold: window.NullThreshold));
        }),
    };

    private static Command Relation(CommandContext context)
    {
        var negative = FinetuneCommand.NegativeLabelOption();
        var command = Task(context, "relation", "JSON lines with text, head, tail and label.", (model, data, _, engine, parse) =>
        {
            if (engine == InferenceEngine.Onnx) throw new InvalidInputException("evaluate relation: relation models run on TorchSharp only (--engine torch); export onnx does not cover them.");
            using var classifier = RelationClassifier.Load(model);
            return classifier.Evaluate(RelationFile.Read(data), parse.GetValue(negative)!);
        });
        command.Add(negative);
        return command;
    }

    private static Command Classify(CommandContext context)
    {
        var prompt = new PromptOptions();
        var command = Task(context, "classify", "CSV, TSV or JSON lines with text (text_pair) and label.", (model, data, _, engine, parse) =>
        {
            var examples = ClassificationData.Read(data);
            if (prompt.Applies(parse, model))
            {
                using var prompted = PromptClassifier.Load(model, prompt.Of(parse));
                prompted.CheckLabels(examples, data);
                return prompted.Evaluate(examples);
            }
            using var classifier = TextClassifier.Load(model, engine: engine);
            return classifier.Evaluate(examples);
        });
        foreach (var option in prompt.All) command.Add(option);
        return command;
    }

    private static Command Task(CommandContext context, string name, string dataDescription, Func<string, string, (int MaxLength, int DocStride, double NullThreshold), InferenceEngine, ParseResult, object> evaluate)
    {
        var model = new Option<string>("--model") { Description = "Fine-tuned model folder (or, with --engine onnx, its exported folder).", Required = true };
        var data = new Option<string>("--data") { Description = dataDescription, Required = true };
        var engine = EngineOption.Create();
        var command = new Command(name, $"Print the {name} metrics of a fine-tuned model as JSON.") { model, data, engine };
        var (maxLength, docStride) = PredictCommand.WindowOptions();
        var threshold = PredictCommand.NullThresholdOption();
        if (name == "qa")
        {
            command.Add(maxLength);
            command.Add(docStride);
            command.Add(threshold);
        }
        command.SetAction(parse =>
        {
            var window = (parse.GetValue(maxLength), parse.GetValue(docStride), parse.GetValue(threshold));
            context.Output.WriteLine(JsonSerializer.Serialize<object>(evaluate(parse.GetValue(model)!, parse.GetValue(data)!, window, EngineOption.Of(parse, engine), parse), Json));
            return 0;
        });
        return command;
    }
}
