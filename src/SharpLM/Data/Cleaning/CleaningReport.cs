using System.Text.Json;
using System.Text.Json.Serialization;

namespace SharpLM.Data.Cleaning;

/// <summary>A document removed (or cut) by one rule, as the report shows it.</summary>
/// <param name="Source">Where it was read: file and line (or Parquet row).</param>
/// <param name="Text">Its beginning (at most <see cref="CleaningReport.ExampleCharacters"/> characters).</param>
/// <param name="KeptSource">For a duplicate: where the kept document it repeats was read.</param>
/// <param name="Jaccard">For a near duplicate: the Jaccard similarity its signature estimates.</param>
public sealed record RemovalExample(string Source, string Text, string? KeptSource = null, double? Jaccard = null);

/// <summary>What one rule (or deduplication) removed.</summary>
public sealed class RemovalCount
{
    /// <summary>Documents removed.</summary>
    public long Documents { get; set; }

    /// <summary>Their UTF-8 bytes.</summary>
    public long Bytes { get; set; }

    /// <summary>The first few of them.</summary>
    public List<RemovalExample> Examples { get; } = new();
}

/// <summary>The banding and size of the near-duplicate index.</summary>
/// <param name="Permutations">MinHash signature length.</param>
/// <param name="Ngram">Words per shingle.</param>
/// <param name="Threshold">Jaccard similarity from which a document is a near duplicate.</param>
/// <param name="Confirmation">The estimate a candidate's signature must reach (the threshold plus two standard errors).</param>
/// <param name="Bands">LSH bands.</param>
/// <param name="Rows">Signature values per band.</param>
/// <param name="Documents">Documents in the index (the kept ones).</param>
/// <param name="CandidatesChecked">Candidate pairs checked on their signatures.</param>
/// <param name="IndexMegabytes">Memory the index holds (signatures are allocated 16 MB at a time).</param>
/// <param name="BytesPerDocument">Index memory per kept document: the band table and the signatures in use.</param>
public sealed record LshSummary(int Permutations, int Ngram, double Threshold, double Confirmation, int Bands, int Rows, long Documents, long CandidatesChecked, double IndexMegabytes, double BytesPerDocument);

/// <summary>
/// The report of <c>sharplm data clean</c> (report.json): documents and bytes in and out, what each rule
/// and each kind of deduplication removed with examples, lines cut by the line rules, the index's size and
/// the time taken.
/// </summary>
public sealed class CleaningReport
{
    /// <summary>Characters of a document shown in an example.</summary>
    public const int ExampleCharacters = 300;

    /// <summary>Examples kept per rule.</summary>
    public const int ExamplesPerRule = 3;

    /// <summary>The inputs, as given.</summary>
    public List<string> Inputs { get; set; } = new();

    /// <summary>Files read.</summary>
    public int Files { get; set; }

    /// <summary>Documents read.</summary>
    public long DocumentsIn { get; set; }

    /// <summary>UTF-8 bytes of the documents read.</summary>
    public long BytesIn { get; set; }

    /// <summary>Documents written.</summary>
    public long DocumentsOut { get; set; }

    /// <summary>UTF-8 bytes of the documents written (after line removal).</summary>
    public long BytesOut { get; set; }

    /// <summary>Records skipped because their text was null.</summary>
    public long NullRecords { get; set; }

    /// <summary>Documents removed, by rule id, then <c>exact-duplicate</c> and <c>near-duplicate</c>.</summary>
    public Dictionary<string, RemovalCount> Removed { get; } = new();

    /// <summary>Lines removed by each line rule, in documents that were kept or removed later.</summary>
    public Dictionary<string, long> LinesRemoved { get; } = new();

    /// <summary>The near-duplicate index, when near deduplication ran.</summary>
    public LshSummary? NearDuplicateIndex { get; set; }

    /// <summary>The rules applied.</summary>
    public List<string> Rules { get; set; } = new();

    /// <summary>Worker threads.</summary>
    public int Threads { get; set; }

    /// <summary>Wall-clock seconds.</summary>
    public double Seconds { get; set; }

    /// <summary>Input megabytes (10^6 UTF-8 bytes of documents) per second.</summary>
    public double MegabytesPerSecond { get; set; }

    /// <summary>The process's peak resident memory, in MiB.</summary>
    public double PeakResidentMegabytes { get; set; }

    /// <summary>The files written, relative to the output folder.</summary>
    public List<string> Shards { get; set; } = new();

    /// <summary>Counts a removal under <paramref name="reason"/>, keeping the first few as examples.</summary>
    public void Remove(string reason, long bytes, Func<RemovalExample> example)
    {
        if (!Removed.TryGetValue(reason, out var count)) Removed[reason] = count = new RemovalCount();
        count.Documents++;
        count.Bytes += bytes;
        if (count.Examples.Count < ExamplesPerRule) count.Examples.Add(example());
    }

    /// <summary>The beginning of <paramref name="text"/> for an example.</summary>
    public static string Excerpt(string text) => text.Length <= ExampleCharacters ? text : text[..ExampleCharacters] + "…";

    /// <summary>The report as indented JSON with snake_case names.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Options);

    /// <summary>Reads what <see cref="ToJson"/> wrote (a resumed run continues its counts).</summary>
    public static CleaningReport FromJson(string json) => JsonSerializer.Deserialize<CleaningReport>(json, Options)!;

    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        PreferredObjectCreationHandling = JsonObjectCreationHandling.Populate,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
