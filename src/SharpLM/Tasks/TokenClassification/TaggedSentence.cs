namespace SharpLM.Tasks.TokenClassification;

/// <summary>A sentence as words, with one gold tag per word when known.</summary>
public sealed record TaggedSentence(IReadOnlyList<string> Words, IReadOnlyList<string>? Tags);
