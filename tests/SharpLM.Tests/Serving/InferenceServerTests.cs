using System.Net;
using System.Text;
using System.Text.Json;
using SharpLM.Serving;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.Embeddings;
using SharpLM.Tasks.FillMask;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.TokenClassification;

namespace SharpLM.Tests.Serving;

/// <summary><c>sharplm serve</c>'s endpoints over real HTTP on the loopback: the library's answers, in its JSON, and a 4xx for every bad request.</summary>
public class InferenceServerTests(ServedModelFolders models) : IClassFixture<ServedModelFolders>
{
    private async Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Post(string path, string json)
    {
        var response = await models.Client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone(), response);
    }

    private static string Body(object value) => JsonSerializer.Serialize(value);

    [Fact]
    public async Task Embed_returns_the_library_vectors_in_text_embeddings_inference_shape()
    {
        string[] texts = ["The state of our Union is strong.", "Heavy rain is expected tomorrow."];
        using var embedder = TextEmbedder.Load(ServedModelFolders.Embedder);
        var expected = embedder.Embed(texts, EmbeddingPooling.Mean, normalize: true);

        var (status, body, _) = await Post("/embed", Body(new { inputs = texts, model = "minilm" }));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body.GetArrayLength());
        for (int i = 0; i < 2; i++)
        {
            var vector = body[i].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.Equal(384, vector.Length);
            Assert.All(Enumerable.Range(0, 384), d => Assert.True(Math.Abs(vector[d] - expected[i][d]) <= 1e-5));
        }

        // One string gives one vector, still in an outer array (TEI's shape); cls pooling without normalisation as the library gives it.
        var cls = embedder.Embed([texts[0]], EmbeddingPooling.Cls, normalize: false)[0];
        var (_, single, _) = await Post("/embed", Body(new { inputs = texts[0], model = "minilm", pooling = "cls", normalize = false }));
        Assert.Equal(1, single.GetArrayLength());
        Assert.All(single[0].EnumerateArray().Select((v, d) => (v.GetSingle(), d)), p => Assert.True(Math.Abs(p.Item1 - cls[p.d]) <= 1e-5));
    }

    [Fact]
    public async Task Fill_mask_classify_ner_and_qa_return_the_pipelines_answers()
    {
        string[] texts = ["The [MASK] of the Union is strong.", "Paris is the [MASK] of France."];
        using (var filler = MaskFiller.Load(models.MaskedLm))
        {
            var expected = filler.Fill(texts, 3);
            var (status, body, _) = await Post("/fill-mask", Body(new { inputs = texts, top_k = 3 }));
            Assert.Equal(HttpStatusCode.OK, status);
            for (int t = 0; t < 2; t++)
            {
                var mask = body[t][0];
                Assert.Equal(expected[t][0].Position, mask.GetProperty("position").GetInt32());
                var tokens = mask.GetProperty("predictions").EnumerateArray().ToList();
                Assert.Equal(expected[t][0].Predictions.Select(p => p.TokenStr), tokens.Select(p => p.GetProperty("token_str").GetString()));
                Assert.Equal(expected[t][0].Predictions.Select(p => p.Sequence), tokens.Select(p => p.GetProperty("sequence").GetString()));
                Assert.All(expected[t][0].Predictions.Zip(tokens), p => Assert.Equal(p.First.Score, p.Second.GetProperty("score").GetDouble(), 5));
            }
        }

        using (var classifier = TextClassifier.Load(models.Classifier))
        {
            var expected = classifier.PredictAll([new ClassificationExample("A wonderful film.", null, null)])[0];
            var (_, top, _) = await Post("/classify", Body(new { inputs = "A wonderful film.", model = "classify" }));
            Assert.Equal(expected[0].Label, top.GetProperty("label").GetString());
            Assert.Equal(expected[0].Score, top.GetProperty("score").GetDouble(), 5);
            var (_, all, _) = await Post("/classify", Body(new { inputs = new[] { "A wonderful film." }, model = "classify", top_k = 2 }));
            Assert.Equal(expected.Select(l => l.Label), all[0].EnumerateArray().Select(l => l.GetProperty("label").GetString()));
            Assert.Equal(1.0, all[0].EnumerateArray().Sum(l => l.GetProperty("score").GetDouble()), 5);
        }

        using (var tagger = TokenTagger.Load(models.Tagger))
        {
            string text = "Angela Merkel visited Paris and Berlin last week.";
            var expected = tagger.PredictText(text);
            var (status, body, _) = await Post("/ner", Body(new { inputs = text, model = "ner" }));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.NotEmpty(expected);
            Assert.Equal(expected.Count, body.GetArrayLength());
            Assert.Equal(expected.Select(e => (e.EntityGroup, e.Start, e.End, e.Word)),
                body.EnumerateArray().Select(e => (e.GetProperty("entity_group").GetString()!, e.GetProperty("start").GetInt32(), e.GetProperty("end").GetInt32(), e.GetProperty("word").GetString()!)));
        }

        using (var answerer = QuestionAnswerer.Load(models.Answerer))
        {
            string question = "Where did she go?", context = "Angela Merkel visited Paris and Berlin last week, and then flew home to Hamburg.";
            var expected = answerer.Predict([new SquadQuestion("0", question, context, [], false)], new AnswerSpanSearch())[0];
            var (status, body, _) = await Post("/qa", Body(new { question, context, model = "qa" }));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(expected.Text, body.GetProperty("answer").GetString());
            Assert.Equal(expected.Start, body.GetProperty("start").GetInt32());
            Assert.Equal(context[expected.Start..expected.End], body.GetProperty("answer").GetString());
            var (_, many, _) = await Post("/qa", Body(new { inputs = new[] { new { question, context } }, model = "qa" }));
            Assert.Equal(expected.Text, many[0].GetProperty("answer").GetString());
        }
    }

    [Theory]
    [InlineData("/embed", "{\"inputs\": \"unterminated", 400, "not valid JSON")]
    [InlineData("/embed", "[\"a list\"]", 400, "must be a JSON object")]
    [InlineData("/embed", "{\"text\": \"no inputs\"}", 400, "no \\\"inputs\\\" field")]
    [InlineData("/embed", "{\"inputs\": 42}", 400, "must be a string or an array of strings, not a number")]
    [InlineData("/embed", "{\"inputs\": [\"a\", null]}", 400, "inputs[1] must be a string, not null")]
    [InlineData("/embed", "{\"inputs\": []}", 400, "empty array")]
    [InlineData("/embed", "{\"inputs\": \"a\", \"pooling\": \"max\"}", 400, "\\\"pooling\\\" must be one of")]
    [InlineData("/embed", "{\"inputs\": \"a\", \"normalize\": \"yes\"}", 400, "\\\"normalize\\\" must be true or false")]
    [InlineData("/embed", "{\"inputs\": \"a\", \"model\": \"gpt\"}", 404, "no model named 'gpt'")]
    [InlineData("/fill-mask", "{\"inputs\": \"no mask here\"}", 400, "inputs[0] has no [MASK]")]
    [InlineData("/fill-mask", "{\"inputs\": \"a [MASK]\", \"top_k\": 0}", 400, "top_k 0")]
    [InlineData("/fill-mask", "{\"inputs\": \"a [MASK]\", \"top_k\": 2.5}", 400, "\\\"top_k\\\" must be an integer")]
    [InlineData("/classify", "{\"inputs\": \"a\"}", 400, "model 'mlm' is a fill-mask model")]
    [InlineData("/qa", "{\"question\": \"q\", \"model\": \"qa\"}", 400, "no \\\"context\\\" field")]
    [InlineData("/nowhere", "{}", 404, "no endpoint POST /nowhere")]
    public async Task A_bad_request_gets_a_4xx_JSON_error_naming_the_problem(string path, string json, int status, string message)
    {
        var (code, body, _) = await Post(path, json);
        Assert.Equal(status, (int)code);
        Assert.Contains(JsonSerializer.Deserialize<string>($"\"{message}\"")!, body.GetProperty("error").GetString());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("error_type").GetString()));
        var (health, _, _) = await Post("/embed", "{\"inputs\": \"still serving\", \"model\": \"minilm\"}");
        Assert.Equal(HttpStatusCode.OK, health);
    }

    [Fact]
    public async Task Texts_over_the_limit_get_413_unless_truncated_and_so_do_bodies_and_batches_over_theirs()
    {
        string longText = string.Join(' ', Enumerable.Repeat("word", 100)); // 102 tokens, the tiny models take 64
        var (status, body, _) = await Post("/classify", Body(new { inputs = longText, model = "classify" }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("inputs[0] is 102 tokens long; this model takes at most 64", body.GetProperty("error").GetString());
        var (truncated, _, _) = await Post("/classify", Body(new { inputs = longText, model = "classify", truncate = true }));
        Assert.Equal(HttpStatusCode.OK, truncated);

        var (tooMany, many, _) = await Post("/embed", Body(new { inputs = Enumerable.Repeat("a", 17).ToArray(), model = "minilm" }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany);
        Assert.Contains("at most 16", many.GetProperty("error").GetString());

        var (tooBig, big, _) = await Post("/embed", Body(new { inputs = new string('x', 200_000), model = "minilm" }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig);
        Assert.Equal("PayloadTooLarge", big.GetProperty("error_type").GetString());

        var plain = await models.Client.PostAsync("/embed", new StringContent("{\"inputs\": \"a\"}", Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        Assert.Contains("Content-Type: application/json", await plain.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Concurrent_requests_share_model_calls_and_each_gets_its_own_answer()
    {
        var model = models.Server.Models.Single(m => m.Name == "minilm");
        var texts = Enumerable.Range(0, 32).Select(i => $"Sentence number {i} about {(i % 2 == 0 ? "the economy" : "the weather")}.").ToArray();
        using var embedder = TextEmbedder.Load(ServedModelFolders.Embedder);
        var expected = embedder.Embed(texts, EmbeddingPooling.Mean, normalize: true);
        var before = model.BatchCounts;
        using var start = new ManualResetEventSlim();
        var requests = texts.Select(t => Task.Run(async () => { start.Wait(); return await Post("/embed", Body(new { inputs = t, model = "minilm" })); })).ToList();
        start.Set();
        var responses = await Task.WhenAll(requests);
        var after = model.BatchCounts;
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, responses[i].Status);
            var vector = responses[i].Body[0].EnumerateArray().Select(v => v.GetSingle()).ToArray();
            Assert.All(Enumerable.Range(0, 384), d => Assert.True(Math.Abs(vector[d] - expected[i][d]) <= 1e-4));
        }
        Assert.Equal(32, after.Texts - before.Texts);
        Assert.True(after.Calls - before.Calls < 32, $"32 concurrent requests took {after.Calls - before.Calls} model calls: nothing was batched");
    }

    [Fact]
    public async Task Health_info_and_the_OpenAPI_document_describe_the_server()
    {
        Assert.Equal("ok", JsonDocument.Parse(await models.Client.GetStringAsync("/health")).RootElement.GetProperty("status").GetString());
        var info = JsonDocument.Parse(await models.Client.GetStringAsync("/info")).RootElement;
        var served = info.GetProperty("models").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!);
        Assert.Equal(["mlm", "minilm", "classify", "ner", "qa"], served.Keys);
        Assert.Equal("fill-mask", served["mlm"].GetProperty("task").GetString());
        Assert.Equal("embed", served["minilm"].GetProperty("task").GetString());
        Assert.Equal(384, served["minilm"].GetProperty("dimensions").GetInt32());
        Assert.Equal("fp32", served["minilm"].GetProperty("precision").GetString());
        Assert.Equal(["negative", "positive"], served["classify"].GetProperty("labels").EnumerateArray().Select(l => l.GetString()));
        Assert.Equal(64, served["qa"].GetProperty("max_length").GetInt32());
        var openApi = JsonDocument.Parse(await models.Client.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = openApi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Superset(new HashSet<string> { "/embed", "/fill-mask", "/classify", "/ner", "/qa", "/health", "/info" }, paths.ToHashSet());
        Assert.True(openApi.GetProperty("paths").GetProperty("/embed").GetProperty("post").TryGetProperty("requestBody", out _));
        string page = await models.Client.GetStringAsync("/");
        Assert.Contains("<title>SharpLM playground</title>", page);
    }

    [Fact]
    public async Task An_exported_folder_on_ONNX_Runtime_answers_as_the_torch_engine_does()
    {
        string exported = Path.Combine(Path.GetDirectoryName(models.MaskedLm)!, "mlm-onnx");
        SharpLM.Interop.Onnx.OnnxExport.Export(models.MaskedLm, Path.Combine(exported, "model.onnx"));
        await using var server = await InferenceServer.StartAsync(new ServerOptions
        {
            Models = [("onnx", exported)], Port = 0, Engine = SharpLM.Interop.Onnx.InferenceEngine.Onnx,
        });
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        Assert.Equal(ModelTask.FillMask, server.Models[0].Task);
        foreach (var (path, body) in new[] { ("/embed", Body(new { inputs = new[] { "The state of our Union.", "A second text." } })), ("/fill-mask", Body(new { inputs = "The [MASK] of the Union.", top_k = 3 })) })
        {
            var toTorch = System.Text.Json.Nodes.JsonNode.Parse(body)!.AsObject();
            toTorch["model"] = "mlm"; // the same folder on the shared torch server
            var torch = JsonDocument.Parse(await (await models.Client.PostAsync(path, new StringContent(toTorch.ToJsonString(), Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync()).RootElement;
            var onnx = JsonDocument.Parse(await (await client.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"))).Content.ReadAsStringAsync()).RootElement;
            if (path == "/embed")
                for (int t = 0; t < 2; t++)
                    Assert.All(torch[t].EnumerateArray().Zip(onnx[t].EnumerateArray()), p => Assert.True(Math.Abs(p.First.GetSingle() - p.Second.GetSingle()) <= 1e-4));
            else
                Assert.Equal(torch[0].GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("token_str").GetString()),
                    onnx[0].GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("token_str").GetString()));
        }
    }

    [Fact]
    public async Task Over_capacity_requests_get_429_with_Retry_After_and_the_others_complete()
    {
        // One request in progress at a time, held in the batcher's window, so that the second arrives while the first is in progress.
        await using var server = await InferenceServer.StartAsync(new ServerOptions
        {
            Models = [("mlm", models.MaskedLm)], Port = 0, MaxConcurrency = 1, BatchWindow = TimeSpan.FromSeconds(2),
        });
        using var client = new HttpClient { BaseAddress = new Uri(server.Address) };
        var first = client.PostAsync("/embed", new StringContent("{\"inputs\": \"first\"}", Encoding.UTF8, "application/json"));
        await Task.Delay(500);
        var second = await client.PostAsync("/embed", new StringContent("{\"inputs\": \"second\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.Equal("1", second.Headers.GetValues("Retry-After").Single());
        Assert.Contains("Overloaded", await second.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
    }
}
