namespace SharpLM.Data;

/// <summary>
/// One split of pretraining data as the trainer reads it: a fixed number of examples, served in a training order that
/// depends only on (seed, position) so that a resumed run sees the same batches, and in stored order for evaluation.
/// <see cref="PretrainingBatches"/> serves BERT's masked examples; <see cref="CausalTokenWindows"/> serves windows of
/// a token stream for next-token prediction.
/// </summary>
public interface IPretrainingData
{
    /// <summary>Examples in the split.</summary>
    long Count { get; }

    /// <summary>Whether the examples carry next-sentence labels.</summary>
    bool NextSentence { get; }

    /// <summary>The training batch that starts at <paramref name="position"/> (examples consumed so far, across epochs).</summary>
    PretrainingBatch TrainingBatch(long position, int batchSize);

    /// <summary>Every example in stored order, in batches (for evaluation).</summary>
    IEnumerable<PretrainingBatch> InOrder(int batchSize);
}
