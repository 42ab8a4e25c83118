using SharpLM.Interop.Onnx;

namespace SharpLM.Serving;

/// <summary>What <c>sharplm serve</c> serves and its limits.</summary>
public sealed record ServerOptions
{
    /// <summary>The models, by the name requests give in <c>"model"</c>; the first is the default.</summary>
    public required IReadOnlyList<(string Name, string Directory)> Models { get; init; }
    /// <summary>The address to listen on (loopback by default: put a reverse proxy in front to expose it).</summary>
    public string Host { get; init; } = "127.0.0.1";
    /// <summary>The port; 0 takes a free one (see <see cref="InferenceServer.Address"/>).</summary>
    public int Port { get; init; } = 8080;
    /// <summary>TorchSharp on model folders, or ONNX Runtime on exported folders.</summary>
    public InferenceEngine Engine { get; init; } = InferenceEngine.Torch;
    /// <summary>The dtype of the torch engine's matrix products: null for float32, or bfloat16 (faster on CPUs with AVX-512 BF16).</summary>
    public TorchSharp.torch.ScalarType? ComputeType { get; init; }
    /// <summary>Cap on one model call's padded positions (texts × longest text).</summary>
    public int MaxBatchTokens { get; init; } = 4096;
    /// <summary>Inference requests in progress at once; more are answered 429 with Retry-After.</summary>
    public int MaxConcurrency { get; init; } = 64;
    /// <summary>How long a batch that is not full waits for more texts.</summary>
    public TimeSpan BatchWindow { get; init; } = TimeSpan.FromMilliseconds(2);
    /// <summary>Largest request body; a larger one is answered 413.</summary>
    public long MaxBodyBytes { get; init; } = 2_000_000;
    /// <summary>Most texts in one request (text-embeddings-inference's max_client_batch_size); more is answered 413.</summary>
    public int MaxInputs { get; init; } = 128;
    /// <summary>How long shutdown waits for requests in progress.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);
}
