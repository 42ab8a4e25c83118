using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpLM.Data;

/// <summary>
/// causal.json of a causal-LM data folder: the tokenizer's fingerprint (so that training refuses data made with
/// another tokenizer), the end-of-text id between documents, and what each split holds. Written last, so a folder
/// without it is an interrupted preparation.
/// </summary>
/// <param name="Format">The format name.</param>
/// <param name="TokenizerHash">The tokenizer's fingerprint.</param>
/// <param name="VocabSize">Tokens in the tokenizer.</param>
/// <param name="EndOfTextId">The id written after every document.</param>
/// <param name="ValidationFraction">Share of documents held out.</param>
/// <param name="Seed">Seed of the held-out choice.</param>
/// <param name="TrainDocuments">Documents in train.bin.</param>
/// <param name="ValidationDocuments">Documents in validation.bin.</param>
/// <param name="TrainTokens">Tokens in train.bin (end-of-text ids included).</param>
/// <param name="ValidationTokens">Tokens in validation.bin.</param>
/// <param name="TrainBytes">UTF-8 bytes of the training text.</param>
/// <param name="ValidationBytes">UTF-8 bytes of the validation text.</param>
public sealed record CausalDataManifest(
    string Format, string TokenizerHash, int VocabSize, int EndOfTextId, double ValidationFraction, int Seed,
    long TrainDocuments, long ValidationDocuments, long TrainTokens, long ValidationTokens, long TrainBytes, long ValidationBytes)
{
    /// <summary>The format name this version writes and reads.</summary>
    public const string CurrentFormat = "sharplm-causal-data-1";

    /// <summary>The file name inside the data folder.</summary>
    public const string FileName = "causal.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Whether <paramref name="folder"/> holds causal-LM data.</summary>
    public static bool IsCausalFolder(string folder) => File.Exists(Path.Combine(folder, FileName));

    /// <summary>Writes the manifest atomically into <paramref name="folder"/>.</summary>
    public void Save(string folder) => AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Reads the manifest of <paramref name="folder"/>.</summary>
    /// <exception cref="InvalidInputException">It is missing, unreadable, or of another format.</exception>
    public static CausalDataManifest Load(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new InvalidInputException($"{folder}: no {FileName}; not a causal-LM data folder (sharplm data prepare --objective causal), or its preparation did not finish.");
        CausalDataManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CausalDataManifest>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidInputException($"{path}: not a valid manifest ({e.Message})."); }
        if (manifest is null || manifest.Format != CurrentFormat)
            throw new InvalidInputException($"{path}: format '{manifest?.Format}' is not {CurrentFormat}.");
        return manifest;
    }
}
