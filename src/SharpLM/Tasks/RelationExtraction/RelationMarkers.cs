namespace SharpLM.Tasks.RelationExtraction;

/// <summary>
/// The entity markers put around the head and tail in the input (Baldini Soares et al. 2019; Zhou and Chen 2021 call
/// this "entity marker"): special tokens added to the vocabulary and the word embeddings of the model fine-tuned.
/// </summary>
public static class RelationMarkers
{
    /// <summary>Opens the head entity; the classifier reads the state here.</summary>
    public const string HeadStart = "[E1]";
    /// <summary>Closes the head entity.</summary>
    public const string HeadEnd = "[/E1]";
    /// <summary>Opens the tail entity; the classifier reads the state here.</summary>
    public const string TailStart = "[E2]";
    /// <summary>Closes the tail entity.</summary>
    public const string TailEnd = "[/E2]";

    /// <summary>The four markers, in the order they are appended to a vocabulary.</summary>
    public static IReadOnlyList<string> All { get; } = [HeadStart, HeadEnd, TailStart, TailEnd];
}
