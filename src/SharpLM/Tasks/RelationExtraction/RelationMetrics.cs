namespace SharpLM.Tasks.RelationExtraction;

/// <summary>
/// Relation extraction scores as TACRED reports them: micro precision, recall and F1 over the relations, where a
/// prediction of the negative label (no_relation) is no prediction and a gold negative is nothing to find; plus accuracy
/// over all examples, negatives included.
/// </summary>
public sealed record RelationMetrics(double Precision, double Recall, double MicroF1, double Accuracy, int Examples)
{
    /// <summary>The scores of <paramref name="predicted"/> against <paramref name="gold"/>.</summary>
    public static RelationMetrics Of(IReadOnlyList<string> gold, IReadOnlyList<string> predicted, string negativeLabel)
    {
        int correct = 0, guessed = 0, relations = 0, same = 0;
        for (int i = 0; i < gold.Count; i++)
        {
            bool isSame = gold[i] == predicted[i];
            if (isSame) same++;
            if (predicted[i] != negativeLabel) guessed++;
            if (gold[i] != negativeLabel) relations++;
            if (isSame && gold[i] != negativeLabel) correct++;
        }
        double precision = guessed == 0 ? 0 : (double)correct / guessed, recall = relations == 0 ? 0 : (double)correct / relations;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new RelationMetrics(precision, recall, f1, gold.Count == 0 ? 0 : (double)same / gold.Count, gold.Count);
    }
}
