namespace SharpLM.Serving;

// The request and response shapes as the OpenAPI document shows them. The endpoints read their bodies themselves
// (RequestBody) so that every mistake gets a message naming the field; these records only describe them.

/// <summary>POST /embed (text-embeddings-inference's request). "inputs" may also be a single string.</summary>
public sealed record EmbedRequest(string[] Inputs, string? Pooling = "mean", bool? Normalize = true, bool? Truncate = false, string? Model = null);
/// <summary>POST /fill-mask. "inputs" may also be a single string; each text holds one or more [MASK].</summary>
public sealed record FillMaskRequest(string[] Inputs, int? TopK = 5, bool? Truncate = false, string? Model = null);
/// <summary>POST /classify. "inputs" may also be a single string; "top_k" returns that many labels, best first.</summary>
public sealed record ClassifyRequest(string[] Inputs, int? TopK = null, bool? Truncate = false, string? Model = null);
/// <summary>POST /ner. "inputs" may also be a single string.</summary>
public sealed record NerRequest(string[] Inputs, string? Model = null);
/// <summary>POST /qa: a question and the context that holds its answer (or "inputs": one or more such objects).</summary>
public sealed record QaRequest(string Question, string Context, string? Model = null);
/// <summary>An answer span with character offsets into the context (predict qa's JSON).</summary>
public sealed record QaAnswer(string Answer, double Score, int Start, int End);
/// <summary>Every error: a message naming the problem, and its kind.</summary>
public sealed record ErrorBody(string Error, string ErrorType);
/// <summary>One served model, as GET /info lists it.</summary>
public sealed record ModelInfo(string Name, string Task, string[] Endpoints, string? Architecture, string Engine, string? Precision, IReadOnlyList<string> Labels, int MaxLength, int Dimensions, string Directory, BatchInfo Batches);
/// <summary>What the model's batcher has done since the server started: model calls, texts, and padded positions computed.</summary>
public sealed record BatchInfo(long Calls, long Texts, long PaddedPositions);
/// <summary>GET /info.</summary>
public sealed record ServerInfo(string Version, IReadOnlyList<ModelInfo> Models, int MaxBatchTokens, int MaxConcurrency, int MaxInputs, long MaxBodyBytes);
