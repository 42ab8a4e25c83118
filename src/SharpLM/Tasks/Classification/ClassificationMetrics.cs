namespace SharpLM.Tasks.Classification;

/// <summary>Accuracy and macro-averaged F1 of predicted labels against gold labels.</summary>
/// <param name="Accuracy">Fraction of examples whose predicted label is the gold one.</param>
/// <param name="MacroF1">Unweighted mean of the per-label F1 over every label that occurs in the gold or the predicted labels (scikit-learn's default label set).</param>
/// <param name="Examples">Examples scored.</param>
public sealed record ClassificationMetrics(double Accuracy, double MacroF1, int Examples)
{
    /// <summary>Scores <paramref name="predicted"/> against <paramref name="gold"/> (same length, same order).</summary>
    public static ClassificationMetrics Of(IReadOnlyList<string> gold, IReadOnlyList<string> predicted)
    {
        if (gold.Count != predicted.Count) throw new ArgumentException($"{gold.Count} gold labels but {predicted.Count} predictions.");
        if (gold.Count == 0) return new ClassificationMetrics(0, 0, 0);
        int correct = 0;
        var truePositives = new Dictionary<string, int>();
        var goldCounts = new Dictionary<string, int>();
        var predictedCounts = new Dictionary<string, int>();
        for (int i = 0; i < gold.Count; i++)
        {
            goldCounts[gold[i]] = goldCounts.GetValueOrDefault(gold[i]) + 1;
            predictedCounts[predicted[i]] = predictedCounts.GetValueOrDefault(predicted[i]) + 1;
            if (gold[i] != predicted[i]) continue;
            correct++;
            truePositives[gold[i]] = truePositives.GetValueOrDefault(gold[i]) + 1;
        }
        var labels = goldCounts.Keys.Union(predictedCounts.Keys).ToList();
        // F1 = 2·TP / (gold + predicted); a label with no true positive scores 0, as scikit-learn's zero_division=0.
        double f1Sum = labels.Sum(label =>
        {
            int tp = truePositives.GetValueOrDefault(label);
            return tp == 0 ? 0.0 : 2.0 * tp / (goldCounts.GetValueOrDefault(label) + predictedCounts.GetValueOrDefault(label));
        });
        return new ClassificationMetrics((double)correct / gold.Count, f1Sum / labels.Count, gold.Count);
    }
}
