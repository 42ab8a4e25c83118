using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpLM.Data;

/// <summary>One shard file of a split.</summary>
public sealed record ShardEntry(string File, string Split, int Examples);

/// <summary>
/// manifest.json of a prepared-data folder: the settings, the vocabulary's fingerprint (so that training
/// refuses data made with another vocabulary), the counts and the shard files. Written last, so a
/// folder without it is an interrupted preparation.
/// </summary>
public sealed record PretrainingDataManifest(
    string Format,
    PretrainingDataOptions Options,
    bool Lowercase,
    string VocabHash,
    int VocabSize,
    int RecordBytes,
    long TrainDocuments,
    long ValidationDocuments,
    long TrainExamples,
    long ValidationExamples,
    long DuplicateLinesDropped,
    IReadOnlyList<ShardEntry> Shards)
{
    /// <summary>The format name this version writes and reads.</summary>
    public const string CurrentFormat = "sharplm-pretraining-data-1";

    /// <summary>The file name inside the data folder.</summary>
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Writes the manifest atomically into <paramref name="folder"/>.</summary>
    public void Save(string folder) => AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Reads the manifest of <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidInputException">It is missing (an unfinished or wrong folder), unreadable, or of another format.</exception>
    public static PretrainingDataManifest Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path) && CausalDataManifest.IsCausalFolder(folder))
            throw new InvalidInputException($"{folder}: holds causal-LM data (token streams), not masked-LM examples; train on it with --objective causal.");
        if (!File.Exists(path)) throw new InvalidInputException($"{folder}: no {FileName}; not a prepared-data folder, or its preparation did not finish.");
        PretrainingDataManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<PretrainingDataManifest>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidInputException($"{path}: not a valid manifest ({e.Message})."); }
        if (manifest is null || manifest.Format != CurrentFormat)
            throw new InvalidInputException($"{path}: format '{manifest?.Format}' is not {CurrentFormat}.");
        return manifest;
    }
}
