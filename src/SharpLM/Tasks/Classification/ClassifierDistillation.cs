using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tasks.Classification;

/// <summary>A training example of a distillation student: the text, its label (gold, or the teacher's for transfer text), and the teacher's scores.</summary>
public sealed record DistilledExample(ClassificationExample Example, float[] TeacherLogits);

/// <summary>
/// Task distillation of a text classifier: a fine-tuned teacher scores the training texts (and unlabelled transfer
/// texts) once, and a smaller student learns those scores through <see cref="DistillationLoss"/>, mixed with the
/// gold labels. Transfer texts take the teacher's most probable label as their label.
/// </summary>
public static class ClassifierDistillation
{
    /// <summary>
    /// The student's training examples: <paramref name="train"/> with the teacher's scores, then <paramref name="transfer"/>
    /// labelled by the teacher. The teacher's labels must be the student's, in the same order.
    /// </summary>
    public static List<DistilledExample> Examples(TextClassifier teacher, IReadOnlyList<ClassificationExample> train,
        IReadOnlyList<ClassificationExample> transfer, int batchSize = 32)
    {
        var trainLogits = teacher.Logits(train, batchSize);
        var transferLogits = teacher.Logits(transfer, batchSize);
        var examples = train.Select((e, i) => new DistilledExample(e, trainLogits[i])).ToList();
        for (int i = 0; i < transfer.Count; i++)
        {
            int best = Array.IndexOf(transferLogits[i], transferLogits[i].Max());
            examples.Add(new DistilledExample(transfer[i] with { Label = teacher.Config.Labels[best] }, transferLogits[i]));
        }
        return examples;
    }

    /// <summary>The student's mean loss on a batch, and its tokens.</summary>
    public static (Tensor Loss, long Tokens) Loss(TextClassifier student, IReadOnlyList<DistilledExample> batch, DistillationLoss distillation)
    {
        using var scope = NewDisposeScope();
        var examples = batch.Select(b => b.Example).ToList();
        var (logits, tokens) = student.BatchLogits(examples);
        var teacher = tensor(batch.SelectMany(b => b.TeacherLogits).ToArray(), batch.Count, batch[0].TeacherLogits.Length);
        var hard = nn.functional.cross_entropy(logits, student.LabelIds(examples));
        return (distillation.Mix(distillation.Soft(logits, teacher), hard).MoveToOuterDisposeScope(), tokens);
    }
}
