using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SharpLM.Interop.Onnx;
using SharpLM.Tasks.Embeddings;

namespace SharpLM.Serving;

/// <summary>
/// The HTTP server of <c>sharplm serve</c>: Kestrel with minimal APIs, the endpoints of Hugging Face's inference servers
/// (/embed as text-embeddings-inference has it; /fill-mask, /classify, /ner, /qa with the JSON of SharpLM's verbs),
/// /health, /info, an OpenAPI document at /openapi/v1.json and the playground page at /.
/// </summary>
public sealed class InferenceServer : IAsyncDisposable
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly WebApplication _app;
    private readonly IReadOnlyList<ServedModel> _models;
    private readonly ServerOptions _options;
    private int _inFlight;

    private InferenceServer(WebApplication app, IReadOnlyList<ServedModel> models, ServerOptions options)
    {
        _app = app;
        _models = models;
        _options = options;
    }

    /// <summary>The served models, the default first.</summary>
    public IReadOnlyList<ServedModel> Models => _models;

    /// <summary>The address it listens on, with the port it got (http://127.0.0.1:PORT).</summary>
    public string Address => _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    /// <summary>Loads the models and starts listening.</summary>
    /// <exception cref="InvalidInputException">A model folder cannot be loaded, or two models share a name.</exception>
    public static async Task<InferenceServer> StartAsync(ServerOptions options)
    {
        if (options.Models.Count == 0) throw new InvalidInputException("serve: give at least one --model.");
        foreach (var name in options.Models.GroupBy(m => m.Name).Where(g => g.Count() > 1))
            throw new InvalidInputException($"serve: two models are named '{name.Key}'; name them with --model NAME=DIR.");
        var models = new List<ServedModel>();
        try
        {
            foreach (var (name, directory) in options.Models)
                models.Add(ServedModel.Load(name, directory, options.Engine, options.MaxBatchTokens, options.BatchWindow, options.ComputeType));
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
            // A port already taken is reported by serve as one line; the host would also log it with a stack trace.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
            builder.Services.AddOpenApi(o => o.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "SharpLM inference server";
                document.Info.Description = "Embeddings (text-embeddings-inference's /embed), fill-mask, classification, NER and extractive QA over SharpLM model folders.";
                return Task.CompletedTask;
            }));
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
                k.AddServerHeader = false;
            });
            builder.WebHost.UseUrls($"http://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
            var app = builder.Build();
            var server = new InferenceServer(app, models, options);
            server.Map(app);
            await app.StartAsync();
            return server;
        }
        catch
        {
            foreach (var model in models) model.Dispose();
            throw;
        }
    }

    /// <summary>Serves until <paramref name="stop"/> (SIGTERM, Ctrl+C) or the host stops; then finishes the requests in progress.</summary>
    public async Task WaitAsync(CancellationToken stop)
    {
        var stopping = _app.Lifetime.ApplicationStopping;
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stop, stopping);
        try { await Task.Delay(Timeout.Infinite, either.Token); }
        catch (OperationCanceledException) { }
    }

    /// <summary>Stops listening, waits for requests in progress (up to the shutdown timeout), then releases the models.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        foreach (var model in _models) model.Dispose();
    }

    private void Map(WebApplication app)
    {
        app.Use(Errors);
        app.MapOpenApi();
        app.MapGet("/", () => Results.Content(Playground.Value, "text/html; charset=utf-8")).ExcludeFromDescription();
        app.MapGet("/health", () => Results.Json(new { status = "ok" }, Json)).WithSummary("200 while the server serves.").WithTags("server");
        app.MapGet("/info", () => Results.Json(Info(), Json)).WithSummary("The served models: task, labels, limits.").WithTags("server").Produces<ServerInfo>();

        Post(app, "/embed", "Embeddings, one array per input (text-embeddings-inference's /embed).", typeof(EmbedRequest), typeof(float[][]), async (body, model) =>
        {
            var (texts, _) = body.Texts(_options.MaxInputs);
            var pooling = body.String("pooling", "mean", "cls") == "cls" ? EmbeddingPooling.Cls : EmbeddingPooling.Mean;
            return await model.EmbedAsync(texts, pooling, body.Bool("normalize", true), body.Bool("truncate", false));
        });
        Post(app, "/fill-mask", "The top_k tokens for each [MASK]: per input, an array of masks (fill-mask's JSON lines).", typeof(FillMaskRequest), typeof(object), async (body, model) =>
        {
            var (texts, single) = body.Texts(_options.MaxInputs);
            var results = await model.FillMaskAsync(texts, body.Int("top_k") ?? 5, body.Bool("truncate", false));
            return single ? results[0] : results;
        });
        Post(app, "/classify", "The label and its probability (predict classify's JSON); with top_k, that many labels, best first.", typeof(ClassifyRequest), typeof(object), async (body, model) =>
        {
            var (texts, single) = body.Texts(_options.MaxInputs);
            int? topK = body.Int("top_k");
            if (topK is < 1) throw ApiError.Validation($"\"top_k\" must be at least 1, not {topK}.");
            var results = await model.ClassifyAsync(texts, body.Bool("truncate", false));
            var shaped = results.Select(labels => topK is int k ? (object)labels.Take(k).ToList() : labels[0]).ToList();
            return single ? shaped[0] : shaped;
        });
        Post(app, "/ner", "The entities of each input with character offsets (predict ner's JSON).", typeof(NerRequest), typeof(object), async (body, model) =>
        {
            var (texts, single) = body.Texts(_options.MaxInputs);
            var results = await model.NerAsync(texts);
            return single ? results[0] : results;
        });
        Post(app, "/qa", "The answer span in the context with character offsets (predict qa's JSON).", typeof(QaRequest), typeof(QaAnswer), async (body, model) =>
        {
            var (questions, single) = body.Questions(_options.MaxInputs);
            var answers = (await model.AnswerAsync(questions)).Select(a => new QaAnswer(a.Text, a.Score, a.Start, a.End)).ToList();
            return single ? answers[0] : answers;
        });
        app.MapFallback((HttpContext http) =>
        {
            string path = http.Request.Path.Value ?? "";
            // Routing matches the POST endpoints on their JSON content type only; say so instead of "not found".
            if (PostPaths.Contains(path))
                return http.Request.Method == "POST"
                    ? Results.Json(new ErrorBody($"POST {path} takes a JSON body: send the header Content-Type: application/json.", "UnsupportedMediaType"), Json, statusCode: 415)
                    : Results.Json(new ErrorBody($"{path} takes POST, not {http.Request.Method}.", "MethodNotAllowed"), Json, statusCode: 405);
            return Results.Json(new ErrorBody($"no endpoint {http.Request.Method} {path}; see GET /openapi/v1.json.", "NotFound"), Json, statusCode: 404);
        }).ExcludeFromDescription();
    }

    private static readonly HashSet<string> PostPaths = ["/embed", "/fill-mask", "/classify", "/ner", "/qa"];

    private void Post(WebApplication app, string path, string summary, Type request, Type response, Func<RequestBody, ServedModel, Task<object>> handle) =>
        app.MapPost(path, async (HttpContext http) =>
            {
                // Admission control: a bounded number of requests in progress, the rest told to come back (not queued without end).
                if (Interlocked.Increment(ref _inFlight) > _options.MaxConcurrency)
                {
                    Interlocked.Decrement(ref _inFlight);
                    http.Response.Headers.RetryAfter = "1";
                    return Results.Json(new ErrorBody($"the server is at its limit of {_options.MaxConcurrency} requests in progress; retry after 1 s.", "Overloaded"), Json, statusCode: 429);
                }
                try
                {
                    var body = await RequestBody.ReadAsync(http.Request, http.RequestAborted);
                    string? name = body.String("model");
                    var model = name is null ? _models[0] : _models.FirstOrDefault(m => m.Name == name)
                        ?? throw new ApiError(404, "NotFound", $"no model named '{name}'; this server has {string.Join(", ", _models.Select(m => $"'{m.Name}'"))}.");
                    return Results.Json(await handle(body, model), Json);
                }
                finally
                {
                    Interlocked.Decrement(ref _inFlight);
                }
            })
            .WithSummary(summary)
            .WithTags("inference")
            .Accepts(request, "application/json")
            .Produces(200, response)
            .Produces<ErrorBody>(400).Produces<ErrorBody>(404).Produces<ErrorBody>(413).Produces<ErrorBody>(429);

    // Every refusal as {"error", "error_type"} with its 4xx status, never a stack trace.
    private static async Task Errors(HttpContext http, RequestDelegate next)
    {
        try
        {
            await next(http);
        }
        catch (Exception e) when (!http.Response.HasStarted && Refusal(e) is var (status, type, message))
        {
            http.Response.Clear();
            if (status == 413 && e is BadHttpRequestException) http.Response.Headers.Connection = "close";
            await Results.Json(new ErrorBody(message, type), Json, statusCode: status).ExecuteAsync(http);
        }
    }

    private static (int, string, string)? Refusal(Exception e) => e switch
    {
        ApiError api => (api.Status, api.Type, api.Message),
        BadHttpRequestException { StatusCode: 413 } => (413, "PayloadTooLarge", "the request body is over this server's limit (--max-body-bytes)."),
        BadHttpRequestException bad => (bad.StatusCode, "Validation", bad.Message),
        InvalidInputException input => (400, "Validation", input.Message),
        OperationCanceledException => (499, "Cancelled", "the client closed the request."),
        _ => null,
    };

    private ServerInfo Info() => new(
        typeof(InferenceServer).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown",
        _models.Select(m => new ModelInfo(m.Name, m.Task.Endpoint(), m.Task == ModelTask.Embed ? ["embed"] : ["embed", m.Task.Endpoint()],
            m.Config.Architecture, m.Engine == InferenceEngine.Onnx ? "onnx" : "torch",
            m.Engine == InferenceEngine.Onnx ? null : m.ComputeType is null ? "fp32" : "bf16", m.Labels, m.MaxLength, m.Dimensions, m.Directory, m.BatchCounts)).ToList(),
        _options.MaxBatchTokens, _options.MaxConcurrency, _options.MaxInputs, _options.MaxBodyBytes);

    private static readonly Lazy<string> Playground = new(() =>
    {
        using var stream = typeof(InferenceServer).Assembly.GetManifestResourceStream("SharpLM.Serving.Playground.index.html")!;
        return new StreamReader(stream).ReadToEnd();
    });
}
