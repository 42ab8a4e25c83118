namespace SharpLM.Tasks.QuestionAnswering;

/// <summary>A gold answer: its text and where it starts in the context (in UTF-16 characters).</summary>
public readonly record struct SquadAnswer(string Text, int Start);

/// <summary>A question about a context, with its gold answers; an impossible question (SQuAD 2.0) has none.</summary>
public sealed record SquadQuestion(string Id, string Question, string Context, IReadOnlyList<SquadAnswer> Answers, bool IsImpossible);
