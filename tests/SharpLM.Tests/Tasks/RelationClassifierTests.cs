using SharpLM.Tasks.RelationExtraction;

namespace SharpLM.Tests.Tasks;

[Collection(GlobalTorchRandomCollection.Name)]
public class RelationClassifierTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private RelationClassifier Classifier(int maxLength) =>
        RelationClassifier.FromPretrained(TestData.TinyPretrainedModel(_temp.Of("model"), maxPositions: 128), ["located_in", "no_relation"], maxLength);

    [Fact]
    public void Fine_tuning_adds_the_four_markers_to_the_vocabulary_and_distinct_rows_to_the_embeddings()
    {
        using var classifier = Classifier(64);
        var vocabulary = classifier.Tokenizer.Vocabulary;
        Assert.Equal(30522 + 4, vocabulary.Count);
        Assert.Equal(RelationMarkers.All, vocabulary.Tokens.TakeLast(4));
        Assert.Equal(30526, classifier.Config.VocabSize);
        var embeddings = classifier.Model.Bert.Embeddings.WordEmbeddings;
        Assert.Equal(30526, embeddings.shape[0]);
        using var markers = embeddings.narrow(0, 30522, 4);
        using var distances = TorchSharp.torch.cdist(markers, markers);
        Assert.True(distances.sum().item<float>() > 0.1); // the four rows differ
    }

    [Fact]
    public void Markers_surround_the_entities_and_their_openings_are_what_the_classifier_reads_in_either_order()
    {
        using var classifier = Classifier(64);
        var example = RelationFile.Parse("The plant in [E1]Austin[/E1] , [E2]Texas[/E2] reopened .");
        Assert.Equal("The plant in Austin , Texas reopened .", example.Text);
        Assert.Equal(new EntityMention(13, 19), example.Head);
        var (encoding, head, tail) = classifier.Encode(example);
        Assert.Equal("[CLS] the plant in [E1] austin [/E1] , [E2] texas [/E2] reopened . [SEP]", string.Join(' ', encoding.Tokens));
        Assert.Equal(("[E1]", "[E2]"), (encoding.Tokens[head], encoding.Tokens[tail]));

        var reversed = classifier.Encode(example with { Head = example.Tail, Tail = example.Head });
        Assert.Equal("[CLS] the plant in [E2] austin [/E2] , [E1] texas [/E1] reopened . [SEP]", string.Join(' ', reversed.Encoding.Tokens));
        Assert.Equal(("[E1]", "[E2]"), (reversed.Encoding.Tokens[reversed.HeadMarker], reversed.Encoding.Tokens[reversed.TailMarker]));
    }

    [Fact]
    public void A_long_text_loses_its_far_context_first_and_keeps_both_entities()
    {
        using var classifier = Classifier(16);
        string filler = string.Join(' ', Enumerable.Repeat("word", 40));
        var (encoding, head, tail) = classifier.Encode(RelationFile.Parse($"{filler} [E1]Austin[/E1] , [E2]Texas[/E2] {filler}"));
        Assert.Equal(16, encoding.Length);
        Assert.Contains("austin", encoding.Tokens);
        Assert.Contains("texas", encoding.Tokens);
        Assert.Equal(("[E1]", "[E2]"), (encoding.Tokens[head], encoding.Tokens[tail]));
        Assert.Equal("[SEP]", encoding.Tokens[^1]);
    }

    [Fact]
    public void Micro_F1_leaves_out_the_negative_label_as_TACRED_does()
    {
        string[] gold = ["a", "a", "b", "no_relation", "no_relation"];
        string[] predicted = ["a", "no_relation", "a", "b", "no_relation"];
        var metrics = RelationMetrics.Of(gold, predicted, "no_relation");
        // Guessed relations: a, a, b (3), of which 1 right; gold relations: a, a, b (3), of which 1 found.
        Assert.Equal(1.0 / 3, metrics.Precision, 10);
        Assert.Equal(1.0 / 3, metrics.Recall, 10);
        Assert.Equal(1.0 / 3, metrics.MicroF1, 10);
        Assert.Equal(2.0 / 5, metrics.Accuracy, 10);
    }

    [Theory]
    [InlineData("{\"text\": \"ab\", \"head\": {\"start\": 0, \"end\": 1}, \"tail\": {\"start\": 1, \"end\": 3}, \"label\": \"x\"}", "is not a non-empty span")]
    [InlineData("{\"text\": \"abc\", \"head\": {\"start\": 0, \"end\": 2}, \"tail\": {\"start\": 1, \"end\": 3}, \"label\": \"x\"}", "overlap")]
    [InlineData("{\"text\": \"abc\", \"head\": [0, 1], \"tail\": {\"start\": 2, \"end\": 3}, \"label\": \"x\"}", "\"head\" must be")]
    [InlineData("{\"text\": \"abc\", \"head\": {\"start\": 0, \"end\": 1}, \"tail\": {\"start\": 2, \"end\": 3}}", "has no \"label\"")]
    public void Bad_relation_lines_are_refused_with_the_line_and_the_problem(string line, string problem)
    {
        string path = _temp.Write("bad.jsonl", "\n" + line + "\n");
        var error = Assert.Throws<InvalidInputException>(() => RelationFile.Read(path));
        Assert.Contains("bad.jsonl: line 2", error.Message);
        Assert.Contains(problem, error.Message);
        Assert.Contains("no [/E2]", Assert.Throws<InvalidInputException>(() => RelationFile.Parse("[E1]a[/E1] [E2]b")).Message);
    }
}
