using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpLM;

/// <summary>Reads a JSON file that must hold one object (config.json, tokenizer.json), with the messages SharpLM gives for a bad one.</summary>
internal static class JsonObjectFile
{
    /// <summary>The object in <paramref name="path"/>; <paramref name="what"/> names the file in the missing-file message.</summary>
    /// <exception cref="InvalidInputException">The file is missing, not JSON, or not an object.</exception>
    public static JsonObject Read(string path, string what)
    {
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: {what} not found.");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new InvalidInputException($"{path}: not a JSON object.");
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path}: not valid JSON ({e.Message}).");
        }
    }
}
