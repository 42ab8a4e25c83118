namespace SharpLM.Data.Cleaning;

/// <summary>Which duplicates <c>sharplm data clean</c> removes.</summary>
public enum Deduplication
{
    /// <summary>None.</summary>
    None,

    /// <summary>Documents whose normalised words are identical.</summary>
    Exact,

    /// <summary>Exact duplicates, then near duplicates by MinHash LSH.</summary>
    Near,
}

/// <summary>Settings of <c>sharplm data clean</c>, with the defaults of datatrove and text-dedup where they have one (256 permutations as text-dedup, 5-grams and 0.8 as datatrove's examples).</summary>
/// <param name="Filters">The <c>--filters</c> value: families and rule ids (<see cref="QualityRule.Select"/>).</param>
/// <param name="MinWords">Fewest words of a document (Gopher: 50).</param>
/// <param name="Language">What a word is, and whether the English-only rules apply.</param>
/// <param name="Deduplication">Which duplicates to remove.</param>
/// <param name="NearDuplicateThreshold">Jaccard similarity from which a document is a near duplicate of an earlier one (confirmed on signatures with a margin, <see cref="LshIndex.Confirmation"/>).</param>
/// <param name="Ngram">Words per MinHash shingle.</param>
/// <param name="Permutations">MinHash signature length.</param>
/// <param name="Bands">LSH bands (0: chosen from the threshold).</param>
/// <param name="TextField">The JSON Lines field or Parquet column holding the text.</param>
/// <param name="Threads">Worker threads for the rules and signatures.</param>
/// <param name="ShardBytes">Size past which a new output shard starts.</param>
/// <param name="Format">JSON Lines or Parquet shards.</param>
/// <param name="CheckpointSeconds">Least time between two checkpoints for <c>--resume</c>, taken when a shard is finished.</param>
public sealed record CleaningOptions(
    string Filters = "gopher,c4",
    int MinWords = 50,
    CleaningLanguage Language = CleaningLanguage.English,
    Deduplication Deduplication = Deduplication.Near,
    double NearDuplicateThreshold = 0.8,
    int Ngram = 5,
    int Permutations = 256,
    int Bands = 0,
    string TextField = "text",
    int Threads = 0,
    long ShardBytes = 256L << 20,
    CleanedFormat Format = CleanedFormat.JsonLines,
    double CheckpointSeconds = 300);
