namespace SharpLM.Tasks.Classification;

/// <summary>One text (or text pair) to classify, with its gold label when known.</summary>
public sealed record ClassificationExample(string Text, string? TextPair, string? Label);
