using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace SharpLM.Serving;

/// <summary>A JSON request body, read with messages that name the field and what was wrong with it.</summary>
internal sealed class RequestBody
{
    private readonly JsonElement _root;

    private RequestBody(JsonElement root) => _root = root;

    /// <summary>Parses the body; malformed JSON, or anything but an object, is a 400.</summary>
    public static async Task<RequestBody> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
        }
        catch (JsonException e)
        {
            throw ApiError.Validation($"the body is not valid JSON: {e.Message}");
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw ApiError.Validation($"the body must be a JSON object, not {Kind(document.RootElement)}.");
            return new RequestBody(document.RootElement.Clone());
        }
    }

    /// <summary>"inputs": one string or a non-empty array of strings; Single says which (the response's shape follows it).</summary>
    public (List<string> Texts, bool Single) Texts(int maxInputs)
    {
        var inputs = Required("inputs");
        if (inputs.ValueKind == JsonValueKind.String) return ([inputs.GetString()!], true);
        if (inputs.ValueKind != JsonValueKind.Array) throw ApiError.Validation($"\"inputs\" must be a string or an array of strings, not {Kind(inputs)}.");
        int count = inputs.GetArrayLength();
        if (count == 0) throw ApiError.Validation("\"inputs\" is an empty array.");
        CheckCount(count, "texts", maxInputs);
        var texts = new List<string>(count);
        int i = 0;
        foreach (var item in inputs.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw ApiError.Validation($"inputs[{i}] must be a string, not {Kind(item)}.");
            texts.Add(item.GetString()!);
            i++;
        }
        return (texts, false);
    }

    /// <summary>Questions: {"question", "context"} at the top, or "inputs" as one such object or an array of them.</summary>
    public (List<(string Question, string Context)> Questions, bool Single) Questions(int maxInputs)
    {
        if (!_root.TryGetProperty("inputs", out var inputs)) return ([Question(_root, "")], true);
        if (inputs.ValueKind == JsonValueKind.Object) return ([Question(inputs, "inputs.")], true);
        if (inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
            throw ApiError.Validation($"\"inputs\" must be an object {{\"question\", \"context\"}} or a non-empty array of them, not {Kind(inputs)}.");
        CheckCount(inputs.GetArrayLength(), "questions", maxInputs);
        return (inputs.EnumerateArray().Select((q, i) => q.ValueKind == JsonValueKind.Object ? Question(q, $"inputs[{i}].")
            : throw ApiError.Validation($"inputs[{i}] must be an object {{\"question\", \"context\"}}, not {Kind(q)}.")).ToList(), false);
    }

    /// <summary>An optional boolean field.</summary>
    public bool Bool(string name, bool fallback) => _root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
        ? v.ValueKind switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw ApiError.Validation($"\"{name}\" must be true or false, not {Kind(v)}.") }
        : fallback;

    /// <summary>An optional integer field.</summary>
    public int? Int(string name) => _root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null
        ? v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : throw ApiError.Validation($"\"{name}\" must be an integer, not {Kind(v)}.")
        : null;

    /// <summary>An optional string field, one of <paramref name="allowed"/> when given.</summary>
    public string? String(string name, params string[] allowed)
    {
        if (!_root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw ApiError.Validation($"\"{name}\" must be a string, not {Kind(v)}.");
        string value = v.GetString()!;
        if (allowed.Length > 0 && !allowed.Contains(value)) throw ApiError.Validation($"\"{name}\" must be one of {string.Join(", ", allowed.Select(a => $"\"{a}\""))}, not \"{value}\".");
        return value;
    }

    // --max-inputs, text-embeddings-inference's max_client_batch_size: 413 beyond it.
    private static void CheckCount(int count, string what, int maxInputs)
    {
        if (count > maxInputs) throw new ApiError(413, "Validation", $"\"inputs\" has {count} {what}; this server takes at most {maxInputs} in one request.");
    }

    private JsonElement Required(string name) =>
        _root.TryGetProperty(name, out var v) ? v : throw ApiError.Validation($"the body has no \"{name}\" field.");

    private static (string, string) Question(JsonElement item, string prefix)
    {
        string Field(string name) => item.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString()!
                : throw ApiError.Validation($"\"{prefix}{name}\" must be a string, not {Kind(v)}.")
            : throw ApiError.Validation($"the body has no \"{prefix}{name}\" field.");
        return (Field("question"), Field("context"));
    }

    private static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
