using System.Text.Json;
using System.Text.RegularExpressions;
using SharpLM.Model;
using SharpLM.Tasks.RelationExtraction;

namespace SharpLM.Tests.Cli;

/// <summary>finetune, predict and evaluate relation end to end on pairs from the real corpus, with a tiny randomly initialised model.</summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class RelationCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static double Metric(string json, string name) => JsonDocument.Parse(json).RootElement.GetProperty(name).GetDouble();

    // Sentences of the corpus naming Congress or America, each giving two pairs with a long lowercase word of the same
    // sentence: entity -> word is "org_of" for Congress and "place_of" for America, word -> entity is no_relation. Only the
    // markers tell the pairs of one sentence apart.
    private string PairFile(string name, int skip, int count)
    {
        var lines = new List<string>();
        foreach (string sentence in TestData.Lines(TestData.SotuPath).SelectMany(l => l.Split(". ")).Where(s => s.Length < 160).Skip(skip))
        {
            var entity = Regex.Match(sentence, @"\b(Congress|America)\b");
            var word = Regex.Match(sentence, @"\b[a-z]{7,}\b");
            if (!entity.Success || !word.Success) continue;
            object Span(Match m) => new { start = m.Index, end = m.Index + m.Length };
            lines.Add(JsonSerializer.Serialize(new { text = sentence, head = Span(entity), tail = Span(word), label = entity.Value == "Congress" ? "org_of" : "place_of" }));
            lines.Add(JsonSerializer.Serialize(new { text = sentence, head = Span(word), tail = Span(entity), label = "no_relation" }));
            if (lines.Count >= 2 * count) break;
        }
        return _temp.Write(name, string.Join("\n", lines) + "\n");
    }

    [Fact]
    public void Relation_fine_tuning_learns_from_the_markers_and_predict_and_evaluate_use_the_saved_markers()
    {
        // A randomly initialised tiny model cannot read context in seconds (a pretrained one learns 300 such pairs in one
        // epoch: docs/adaptation.md), but it must fit 40 pairs whose two directions differ only by the markers.
        string model = TestData.TinyPretrainedModel(_temp.Of("pretrained"), maxPositions: 128), output = _temp.Of("relation");
        string train = PairFile("train.jsonl", 0, 20);
        var run = CliRun.Of("finetune", "relation", "--model", model, "--train", train, "--dev", train, "--output", output,
            "--epochs", "8", "--lr", "2e-3", "--max-length", "48", "--batch-size", "8", "--seed", "2");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Matches(@"relation: 40 training pairs, 3 labels \(no_relation, org_of, place_of\), 'no_relation' left out of micro-F1, 40 dev pairs", run.Error);
        Assert.True(Metric(run.Output, "micro_f1") >= 0.95, run.Output + run.Error);

        var config = BertConfig.Load(output);
        Assert.Equal("BertForRelationClassification", config.Architecture);
        Assert.Equal(RelationMarkers.All, File.ReadLines(Path.Combine(output, "vocab.txt")).TakeLast(4));
        var evaluated = CliRun.Of("evaluate", "relation", "--model", output, "--data", train);
        Assert.True(evaluated.ExitCode == 0, evaluated.Error);
        Assert.Equal(Metric(run.Output, "micro_f1"), Metric(evaluated.Output, "micro_f1"));

        // The first training pair typed with markers, both ways round.
        var first = RelationFile.Read(train)[0];
        string Marked(EntityMention head, EntityMention tail)
        {
            var inserts = new[] { (head.Start, "[E1]"), (head.End, "[/E1]"), (tail.Start, "[E2]"), (tail.End, "[/E2]") }.OrderByDescending(p => p.Item1);
            string text = first.Text;
            foreach (var (at, marker) in inserts) text = text.Insert(at, marker);
            return text;
        }
        string Predicted(string marked)
        {
            var predicted = CliRun.Of("predict", "relation", "--model", output, marked);
            Assert.True(predicted.ExitCode == 0, predicted.Error);
            return JsonDocument.Parse(predicted.Output).RootElement.GetProperty("label").GetString()!;
        }
        Assert.Equal(first.Label, Predicted(Marked(first.Head, first.Tail)));
        Assert.Equal("no_relation", Predicted(Marked(first.Tail, first.Head)));
    }

    [Fact]
    public void Bad_relation_inputs_fail_with_one_clear_line()
    {
        string model = TestData.TinyPretrainedModel(_temp.Of("pretrained"), maxPositions: 128);
        CliRun.Of("predict", "relation", "--model", model, "[E1]a[/E1] and b").AssertFailsNaming("no [E2]", "mark the head");
        CliRun.Of("predict", "relation", "--model", model, "[E1]a[/E1] and [E2]b[/E2]").AssertFailsNaming(model, "fine-tune a model for this task first");
        string oneLabel = _temp.Write("one.jsonl", "{\"text\": \"ab cd\", \"head\": {\"start\": 0, \"end\": 2}, \"tail\": {\"start\": 3, \"end\": 5}, \"label\": \"x\"}\n");
        CliRun.Of("finetune", "relation", "--model", model, "--train", oneLabel, "--output", _temp.Of("out")).AssertFailsNaming("one.jsonl", "only one label");
        CliRun.Of("evaluate", "relation", "--model", model, "--data", oneLabel, "--engine", "onnx").AssertFailsNaming("--engine torch", "TorchSharp only");
    }
}
