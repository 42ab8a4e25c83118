using System.Text.Json;

namespace SharpLM.Tasks.RelationExtraction;

/// <summary>
/// Reads relation examples from JSON lines: <c>{"text": "...", "head": {"start": 0, "end": 5}, "tail": {"start": 9, "end": 14}, "label": "..."}</c>,
/// offsets in characters (end exclusive). Head and tail must be non-empty, inside the text and apart.
/// </summary>
public static class RelationFile
{
    /// <summary>The examples of <paramref name="path"/>; with <paramref name="requireLabels"/>, every example must have a label.</summary>
    /// <exception cref="InvalidInputException">A line is not such an object, a span is out of the text or overlaps the other, or a label is missing.</exception>
    public static List<RelationExample> Read(string path, bool requireLabels = true)
    {
        var examples = new List<RelationExample>();
        int lineNumber = 0;
        foreach (string line in TaskFile.ReadText(path).Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string Where() => $"{path}: line {lineNumber}";
            JsonElement row;
            try { row = JsonDocument.Parse(line).RootElement; }
            catch (JsonException e) { throw new InvalidInputException($"{Where()} is not valid JSON ({e.Message})."); }
            if (row.ValueKind != JsonValueKind.Object || !row.TryGetProperty("text", out var text) || text.ValueKind != JsonValueKind.String)
                throw new InvalidInputException($"{Where()} has no \"text\" string.");
            string value = text.GetString()!;
            EntityMention Span(string name)
            {
                if (!row.TryGetProperty(name, out var span) || span.ValueKind != JsonValueKind.Object
                    || !span.TryGetProperty("start", out var start) || !span.TryGetProperty("end", out var end)
                    || !start.TryGetInt32(out int s) || !end.TryGetInt32(out int e))
                    throw new InvalidInputException($"{Where()}: \"{name}\" must be {{\"start\": N, \"end\": N}} (character offsets).");
                if (s < 0 || e > value.Length || s >= e)
                    throw new InvalidInputException($"{Where()}: \"{name}\" [{s}, {e}) is not a non-empty span of the {value.Length}-character text.");
                return new EntityMention(s, e);
            }
            var head = Span("head");
            var tail = Span("tail");
            if (head.Start < tail.End && tail.Start < head.End) throw new InvalidInputException($"{Where()}: head and tail overlap.");
            string? label = row.TryGetProperty("label", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString() : null;
            if (requireLabels && string.IsNullOrEmpty(label)) throw new InvalidInputException($"{Where()} has no \"label\".");
            examples.Add(new RelationExample(value, head, tail, string.IsNullOrEmpty(label) ? null : label));
        }
        if (examples.Count == 0) throw new InvalidInputException($"{path}: no examples.");
        return examples;
    }

    /// <summary>
    /// An example written with markers, as people type one: <c>[E1]Ada Lovelace[/E1] was born in [E2]London[/E2].</c>
    /// The markers are removed and their places become the spans.
    /// </summary>
    /// <exception cref="InvalidInputException">Each marker must appear once, each entity opened before it is closed.</exception>
    public static RelationExample Parse(string marked)
    {
        var text = new System.Text.StringBuilder();
        var at = new Dictionary<string, int>();
        for (int i = 0; i < marked.Length;)
        {
            string? marker = RelationMarkers.All.FirstOrDefault(m => string.CompareOrdinal(marked, i, m, 0, m.Length) == 0);
            if (marker is null) { text.Append(marked[i++]); continue; }
            if (!at.TryAdd(marker, text.Length)) throw new InvalidInputException($"'{marked}': {marker} appears twice.");
            i += marker.Length;
        }
        if (RelationMarkers.All.FirstOrDefault(m => !at.ContainsKey(m)) is { } missing)
            throw new InvalidInputException($"'{marked}': no {missing}; mark the head as [E1]...[/E1] and the tail as [E2]...[/E2].");
        var head = new EntityMention(at[RelationMarkers.HeadStart], at[RelationMarkers.HeadEnd]);
        var tail = new EntityMention(at[RelationMarkers.TailStart], at[RelationMarkers.TailEnd]);
        if (head.Start >= head.End || tail.Start >= tail.End || (head.Start < tail.End && tail.Start < head.End))
            throw new InvalidInputException($"'{marked}': each entity must be opened before it is closed, hold text, and not overlap the other.");
        return new RelationExample(text.ToString(), head, tail, null);
    }
}
