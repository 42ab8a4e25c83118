using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpLM.Tasks.Classification;

/// <summary>One label of a verbalizer and the words that stand for it at the mask.</summary>
public sealed record VerbalizedLabel(string Label, IReadOnlyList<string> Words);

/// <summary>
/// A cloze prompt for classification with a masked LM (PET, Schick and Schütze 2021): a template such as
/// <c>{text} It was [MASK].</c> with exactly one [MASK] and a <c>{text}</c> (and optionally <c>{text_pair}</c>) slot, and a
/// verbalizer that maps each label to one or more words, written <c>positive=great|good,negative=terrible</c>. A label's
/// score is the probability the model gives its words at the mask. Saved beside a prompt-tuned model as prompt.json.
/// </summary>
public sealed record ClozePrompt(string Template, IReadOnlyList<VerbalizedLabel> Verbalizer)
{
    /// <summary>The file a prompt-tuned model folder keeps its prompt in.</summary>
    public const string FileName = "prompt.json";

    /// <summary>The slot of the text in the template.</summary>
    public const string TextSlot = "{text}";

    /// <summary>The slot of the second text of a pair.</summary>
    public const string PairSlot = "{text_pair}";

    /// <summary>The mask the model fills.</summary>
    public const string Mask = "[MASK]";

    /// <summary>The labels in verbalizer order: the order of the scores.</summary>
    public IReadOnlyList<string> Labels => Verbalizer.Select(v => v.Label).ToList();

    /// <summary>Parses a template and a verbalizer as typed on the command line.</summary>
    /// <exception cref="InvalidInputException">The template lacks {text} or has no single [MASK]; the verbalizer is malformed or repeats a label.</exception>
    public static ClozePrompt Parse(string template, string verbalizer)
    {
        var labels = new List<VerbalizedLabel>();
        foreach (string entry in verbalizer.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int equals = entry.IndexOf('=');
            string label = equals > 0 ? entry[..equals].Trim() : "";
            var words = equals > 0 ? entry[(equals + 1)..].Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) : [];
            if (label.Length == 0 || words.Length == 0)
                throw new InvalidInputException($"--verbalizer '{entry}': write each label as label=word (or label=word|word), labels separated by commas.");
            labels.Add(new VerbalizedLabel(label, words));
        }
        return new ClozePrompt(template, labels).Validate();
    }

    /// <summary>Checks the template and the verbalizer; the message names the option.</summary>
    public ClozePrompt Validate()
    {
        if (!Template.Contains(TextSlot, StringComparison.Ordinal))
            throw new InvalidInputException($"--prompt '{Template}': needs a {TextSlot} slot where the input goes.");
        int masks = (Template.Length - Template.Replace(Mask, "", StringComparison.Ordinal).Length) / Mask.Length;
        if (masks != 1) throw new InvalidInputException($"--prompt '{Template}': needs exactly one {Mask} (it has {masks}).");
        if (Verbalizer.Count < 2) throw new InvalidInputException("--verbalizer: needs at least two labels (label=word,label=word).");
        if (Verbalizer.GroupBy(v => v.Label).FirstOrDefault(g => g.Count() > 1) is { } repeated)
            throw new InvalidInputException($"--verbalizer: label '{repeated.Key}' is given twice.");
        return this;
    }

    /// <summary>Writes prompt.json into <paramref name="directory"/>, atomically.</summary>
    public void Save(string directory)
    {
        var json = new JsonObject
        {
            ["template"] = Template,
            ["verbalizer"] = new JsonObject(Verbalizer.Select(v => KeyValuePair.Create<string, JsonNode?>(v.Label, new JsonArray(v.Words.Select(w => (JsonNode?)w).ToArray())))),
        };
        AtomicFile.WriteAllText(Path.Combine(directory, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>The prompt saved in <paramref name="directory"/>, or null when it has none.</summary>
    /// <exception cref="InvalidInputException">prompt.json is malformed.</exception>
    public static ClozePrompt? Load(string directory)
    {
        string path = Path.Combine(directory, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            var verbalizer = json["verbalizer"]!.AsObject().Select(p => new VerbalizedLabel(p.Key, p.Value!.AsArray().Select(w => w!.GetValue<string>()).ToList())).ToList();
            return new ClozePrompt(json["template"]!.GetValue<string>(), verbalizer).Validate();
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or NullReferenceException or FormatException)
        {
            throw new InvalidInputException($"{path}: not a prompt file ({{\"template\": \"...\", \"verbalizer\": {{\"label\": [\"word\"]}}}}): {e.Message}");
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException($"{path}: {e.Message}");
        }
    }
}
