namespace SharpLM.Tasks.TokenClassification;

/// <summary>
/// Entity-level precision, recall and F1 (micro-averaged over all entities, an entity counting only when
/// its span and type both match, as seqeval's classification report), and token (word) accuracy.
/// </summary>
public sealed record EntityMetrics(double Precision, double Recall, double F1, double TokenAccuracy, int Sentences)
{
    /// <summary>Scores predicted tag sequences against gold ones, sentence by sentence.</summary>
    public static EntityMetrics Of(IReadOnlyList<IReadOnlyList<string>> gold, IReadOnlyList<IReadOnlyList<string>> predicted)
    {
        if (gold.Count != predicted.Count) throw new ArgumentException($"{gold.Count} gold sentences but {predicted.Count} predicted.");
        long goldEntities = 0, predictedEntities = 0, matched = 0, words = 0, correctWords = 0;
        for (int s = 0; s < gold.Count; s++)
        {
            if (gold[s].Count != predicted[s].Count) throw new ArgumentException($"sentence {s}: {gold[s].Count} gold tags but {predicted[s].Count} predicted.");
            var goldSpans = EntitySpan.In(gold[s]);
            var predictedSpans = EntitySpan.In(predicted[s]);
            goldEntities += goldSpans.Count;
            predictedEntities += predictedSpans.Count;
            matched += predictedSpans.Intersect(goldSpans).Count();
            words += gold[s].Count;
            for (int i = 0; i < gold[s].Count; i++) if (gold[s][i] == predicted[s][i]) correctWords++;
        }
        double precision = predictedEntities == 0 ? 0 : (double)matched / predictedEntities;
        double recall = goldEntities == 0 ? 0 : (double)matched / goldEntities;
        double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        return new EntityMetrics(precision, recall, f1, words == 0 ? 0 : (double)correctWords / words, gold.Count);
    }
}
