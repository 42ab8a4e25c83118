using System.Net.Http.Json;
using System.Text.Json;
using PuppeteerSharp;

namespace SharpLM.Tests.Serving;

/// <summary>
/// The playground page at / in a real browser (Debian's chromium, headless, driven through the DevTools protocol by
/// PuppeteerSharp): for each served model it types, runs, and checks that the page shows what the API answers.
/// </summary>
public class PlaygroundPageTests(ServedModelFolders models) : IClassFixture<ServedModelFolders>, IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";
    private IBrowser _browser = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run and tests/run.sh install it)");
        _browser = await Puppeteer.LaunchAsync(new LaunchOptions { Headless = true, ExecutablePath = Chromium, Args = ["--no-sandbox", "--disable-gpu"] });
        _page = await _browser.NewPageAsync();
        await _page.SetViewportAsync(new ViewPortOptions { Width = 1200, Height = 800 });
        await _page.GoToAsync(models.Server.Address + "/");
        await _page.WaitForSelectorAsync("body[data-ready=true]", new WaitForSelectorOptions { Timeout = 30_000 });
    }

    public async Task DisposeAsync()
    {
        await _browser.CloseAsync();
        _browser.Dispose();
    }

    private async Task Run(string model)
    {
        await _page.SelectAsync("#model", model);
        await _page.EvaluateExpressionAsync("document.getElementById('status').textContent = ''");
        await _page.ClickAsync("#run");
        await _page.WaitForFunctionAsync("() => /^done in|error/.test(document.getElementById('status').textContent + document.getElementById('status').className)", new WaitForFunctionOptions { Timeout = 30_000 });
        Assert.Equal("", await _page.EvaluateExpressionAsync<string>("document.getElementById('status').className"));
    }

    private async Task<string> Value(string id) => await _page.EvaluateExpressionAsync<string>($"document.getElementById('{id}').value");

    private async Task<JsonElement> Api(string path, object body) =>
        JsonDocument.Parse(await (await models.Client.PostAsJsonAsync(path, body)).Content.ReadAsStringAsync()).RootElement;

    private async Task<string[]> Texts(string selector) => await _page.EvaluateExpressionAsync<string[]>($"[...document.querySelectorAll('{selector}')].map(e => e.textContent)");

    [Fact]
    public async Task Each_task_shows_what_the_API_answers()
    {
        // Fill-mask: the candidates of the mask, in the API's order.
        await Run("mlm");
        var masks = await Api("/fill-mask", new { inputs = await Value("text"), top_k = 5, model = "mlm" });
        var tokens = await Texts("table.candidates tr td:first-child");
        Assert.Equal(masks[0].GetProperty("predictions").EnumerateArray().Select(p => p.GetProperty("token_str").GetString()), tokens);

        // Classification: every label with its score, best first.
        await Run("classify");
        var labels = await Api("/classify", new { inputs = await Value("text"), top_k = 2, truncate = true, model = "classify" });
        Assert.Equal(labels.EnumerateArray().Select(l => l.GetProperty("label").GetString()), await Texts("table.labels tr td:first-child"));
        Assert.Equal(labels.EnumerateArray().Select(l => l.GetProperty("score").GetDouble().ToString("F4")), await Texts("table.labels td.score"));

        // NER: one highlight per entity, over the entity's characters of the typed text.
        await Run("ner");
        string text = await Value("text");
        var entities = (await Api("/ner", new { inputs = text, model = "ner" })).EnumerateArray().ToList();
        Assert.NotEmpty(entities);
        var marks = await _page.EvaluateExpressionAsync<string[]>("[...document.querySelectorAll('#result mark')].map(m => m.firstChild.textContent + '|' + m.querySelector('sub').textContent)");
        Assert.Equal(entities.Select(e => text[e.GetProperty("start").GetInt32()..e.GetProperty("end").GetInt32()] + "|" + e.GetProperty("entity_group").GetString()), marks);

        // QA: the answer, marked where it is in the context.
        await Run("qa");
        var answer = await Api("/qa", new { question = await Value("question"), context = await Value("context"), model = "qa" });
        string expected = answer.GetProperty("answer").GetString()!;
        Assert.Equal(expected, (await Texts("#answer")).Single());
        Assert.Equal(expected, (await Texts("#result mark")).Single());
        string before = await _page.EvaluateExpressionAsync<string>("document.querySelector('#result mark').previousSibling?.textContent ?? ''");
        Assert.Equal((await Value("context"))[..answer.GetProperty("start").GetInt32()], before);

        // Embeddings: the cosine of the two texts' vectors.
        await Run("minilm");
        var vectors = await Api("/embed", new { inputs = new[] { await Value("text"), await Value("text2") }, truncate = true, model = "minilm" });
        double cosine = Enumerable.Range(0, 384).Sum(d => vectors[0][d].GetDouble() * vectors[1][d].GetDouble());
        Assert.Equal(cosine.ToString("F4"), (await Texts("#cosine")).Single());
        Assert.True(cosine > 0.5, $"the example's paraphrases have cosine {cosine}");
    }

    [Fact]
    public async Task An_error_is_shown_on_the_page_and_a_link_can_fill_and_run_it()
    {
        await _page.SelectAsync("#model", "mlm");
        await _page.EvaluateExpressionAsync("document.getElementById('text').value = 'no mask at all'");
        await _page.ClickAsync("#run");
        await _page.WaitForFunctionAsync("() => document.getElementById('status').className === 'error'", new WaitForFunctionOptions { Timeout = 30_000 });
        Assert.Contains("has no [MASK] token", await _page.EvaluateExpressionAsync<string>("document.getElementById('status').textContent"));

        await _page.GoToAsync(models.Server.Address + "/?model=qa&question=" + Uri.EscapeDataString("Who?") + "&context=" + Uri.EscapeDataString("Ada Lovelace wrote the first program.") + "&run=1");
        await _page.WaitForFunctionAsync("() => /^done in/.test(document.getElementById('status').textContent)", new WaitForFunctionOptions { Timeout = 30_000 });
        Assert.Equal("Who?", await Value("question"));
        Assert.Single(await Texts("#answer"));
    }
}
