using System.CommandLine;
using SharpLM.Serving;

namespace SharpLM.Cli;

/// <summary><c>sharplm serve</c>: an HTTP server for one or more model folders (see <see cref="InferenceServer"/>).</summary>
public static class ServeCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var models = new Option<string[]>("--model")
        {
            Description = "A model folder to serve, or NAME=DIR; repeat for several (requests choose with \"model\": NAME, the first is the default). The name of a bare DIR is its folder's name.",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var port = new Option<int>("--port") { Description = "Port to listen on (0: any free port).", DefaultValueFactory = _ => 8080 };
        var host = new Option<string>("--host") { Description = "Address to listen on; the default answers this machine only (use 0.0.0.0 behind a proxy to expose it).", DefaultValueFactory = _ => "127.0.0.1" };
        var maxBatchTokens = new Option<int>("--max-batch-tokens") { Description = "Most padded positions (texts x longest text) in one model call.", DefaultValueFactory = _ => 4096 };
        var maxConcurrency = new Option<int>("--max-concurrency") { Description = "Inference requests in progress at once; more get 429 with Retry-After.", DefaultValueFactory = _ => 64 };
        var window = new Option<int>("--batch-window-ms") { Description = "How long a batch that is not full waits for more texts.", DefaultValueFactory = _ => 2 };
        var maxInputs = new Option<int>("--max-inputs") { Description = "Most texts in one request; more get 413.", DefaultValueFactory = _ => 128 };
        var maxBody = new Option<long>("--max-body-bytes") { Description = "Largest request body; larger gets 413.", DefaultValueFactory = _ => 2_000_000 };
        var threads = new Option<int>("--threads") { Description = "CPU threads for tensor work (default: the core count).", DefaultValueFactory = _ => Environment.ProcessorCount };
        var precision = new Option<string>("--precision") { Description = "torch engine: auto (the default: bf16 where the CPU has AVX-512 BF16 or AMX, else fp32), fp32, or bf16 (the matrix products in bfloat16: all-MiniLM-L6-v2's embeddings kept a cosine of 0.99996 or more with fp32's).", DefaultValueFactory = _ => "auto" };
        precision.AcceptOnlyFromAmong("fp32", "bf16", "auto");
        var engine = EngineOption.Create();
        var command = new Command("serve", "Serve models over HTTP: POST /embed, /fill-mask, /classify, /ner, /qa; GET /health, /info, /openapi/v1.json; a playground page at /.")
        {
            models, port, host, engine, precision, maxBatchTokens, maxConcurrency, window, maxInputs, maxBody, threads,
        };
        command.SetAction(async (parse, cancellation) =>
        {
            if (parse.GetValue(port) is < 0 or > 65535) throw new InvalidInputException($"--port {parse.GetValue(port)}: must be between 0 and 65535.");
            foreach (var (option, value) in new[] { ("--max-batch-tokens", parse.GetValue(maxBatchTokens)), ("--max-concurrency", parse.GetValue(maxConcurrency)), ("--max-inputs", parse.GetValue(maxInputs)), ("--threads", parse.GetValue(threads)) })
                if (value < 1) throw new InvalidInputException($"{option} {value}: must be at least 1.");
            if (parse.GetValue(window) < 0) throw new InvalidInputException($"--batch-window-ms {parse.GetValue(window)}: must not be negative.");
            if (parse.GetValue(maxBody) < 1) throw new InvalidInputException($"--max-body-bytes {parse.GetValue(maxBody)}: must be at least 1.");
            TorchSharp.torch.set_num_threads(parse.GetValue(threads));
            var options = new ServerOptions
            {
                Models = parse.GetValue(models)!.Select(NameAndFolder).ToList(),
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                Engine = EngineOption.Of(parse, engine),
                ComputeType = EngineOption.Of(parse, engine) == Interop.Onnx.InferenceEngine.Onnx && parse.GetValue(precision) == "auto" ? null : SharpLM.Model.MixedPrecision.Parse(parse.GetValue(precision)!),
                MaxBatchTokens = parse.GetValue(maxBatchTokens),
                MaxConcurrency = parse.GetValue(maxConcurrency),
                BatchWindow = TimeSpan.FromMilliseconds(parse.GetValue(window)),
                MaxInputs = parse.GetValue(maxInputs),
                MaxBodyBytes = parse.GetValue(maxBody),
            };
            InferenceServer server;
            try
            {
                server = await InferenceServer.StartAsync(options);
            }
            catch (IOException e) when (e.InnerException is System.Net.Sockets.SocketException || e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidInputException($"serve: cannot listen on {options.Host}:{options.Port}: {e.Message}");
            }
            await using (server)
            {
                foreach (var model in server.Models)
                    context.Error.WriteLine($"serving '{model.Name}': {model.Config.Architecture ?? "BertModel"} ({model.Task.Endpoint()}, {(model.Engine == Interop.Onnx.InferenceEngine.Onnx ? "onnx" : model.ComputeType is null ? "torch fp32" : "torch bf16")}) from {model.Directory}");
                context.Error.WriteLine($"listening on {server.Address} (playground at /, OpenAPI at /openapi/v1.json); Ctrl+C or SIGTERM stops after the requests in progress");
                await server.WaitAsync(cancellation);
                context.Error.WriteLine("stopping: finishing the requests in progress");
            }
            context.Error.WriteLine("stopped");
            return 0;
        });
        return command;
    }

    // NAME=DIR, unless the whole argument is an existing path (a folder may have '=' in its name).
    private static (string Name, string Directory) NameAndFolder(string argument)
    {
        int split = argument.IndexOf('=');
        if (split > 0 && !Path.Exists(argument)) return (argument[..split], argument[(split + 1)..]);
        return (Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(argument))), argument);
    }
}
