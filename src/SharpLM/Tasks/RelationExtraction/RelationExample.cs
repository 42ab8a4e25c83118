namespace SharpLM.Tasks.RelationExtraction;

/// <summary>A character span of an entity in the text: start inclusive, end exclusive.</summary>
public readonly record struct EntityMention(int Start, int End);

/// <summary>A text, its head and tail entities, and the relation of head to tail when known (TACRED's shape, with character offsets).</summary>
public sealed record RelationExample(string Text, EntityMention Head, EntityMention Tail, string? Label);
