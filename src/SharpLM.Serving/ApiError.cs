namespace SharpLM.Serving;

/// <summary>
/// A request the server refuses, answered with <see cref="Status"/> and the JSON body
/// <c>{"error": message, "error_type": type}</c> (text-embeddings-inference's error shape).
/// </summary>
public sealed class ApiError(int status, string type, string message) : Exception(message)
{
    /// <summary>The HTTP status code (4xx).</summary>
    public int Status { get; } = status;
    /// <summary>The kind of problem: Validation, NotFound, Overloaded, PayloadTooLarge.</summary>
    public string Type { get; } = type;

    /// <summary>400: the body does not say what the endpoint needs.</summary>
    public static ApiError Validation(string message) => new(400, "Validation", message);
}
