using SharpLM.Training;
using static TorchSharp.torch;

namespace SharpLM.Tasks.TokenClassification;

/// <summary>A chunk a distillation student trains on, with the teacher's scores for each of its words [word][tag].</summary>
public sealed record DistilledChunk(TaggedChunk Chunk, float[][] TeacherLogits);

/// <summary>
/// Task distillation of a tagger: a fine-tuned teacher scores every word of the training sentences (and of unlabelled
/// transfer sentences) once, at the word's first piece, and the student learns those scores word by word through
/// <see cref="DistillationLoss"/>, mixed with its loss on the gold tags (CRF or cross-entropy). Transfer sentences take
/// the teacher's predicted tags. Teacher and student may read words with different vocabularies: the scores are per word.
/// </summary>
public static class TaggerDistillation
{
    /// <summary>
    /// The student's training chunks: <paramref name="train"/> with the teacher's scores, then <paramref name="transfer"/> tagged by
    /// the teacher. The teacher's tags must be the student's, in the same order.
    /// </summary>
    public static List<DistilledChunk> Chunks(TokenTagger teacher, TokenTagger student, IReadOnlyList<TaggedSentence> train,
        IReadOnlyList<IReadOnlyList<string>> transfer, int batchSize = 32)
    {
        // One pass of the teacher scores both; transfer sentences take the tags it predicts.
        var (logits, tags) = teacher.Score(train.Select(s => s.Words).Concat(transfer).ToList(), batchSize);
        var sentences = train.Concat(transfer.Select((words, i) => new TaggedSentence(words, tags[train.Count + i]))).ToList();
        var chunks = new List<DistilledChunk>();
        for (int s = 0; s < sentences.Count; s++)
        {
            int word = 0;
            foreach (var chunk in student.Chunks([sentences[s]]))
            {
                chunks.Add(new DistilledChunk(chunk, logits[s][word..(word + chunk.WordPositions.Length)]));
                word += chunk.WordPositions.Length;
            }
        }
        return chunks;
    }

    /// <summary>The student's mean loss on a batch, and its tokens: the soft term averaged over the batch's words.</summary>
    public static (Tensor Loss, long Tokens) Loss(TokenTagger student, IReadOnlyList<DistilledChunk> batch, DistillationLoss distillation)
    {
        using var scope = NewDisposeScope();
        var chunks = batch.Select(b => b.Chunk).ToList();
        var (emissions, mask) = student.WordEmissions(chunks);
        var rows = batch.SelectMany(b => b.TeacherLogits).ToList();
        // emissions[mask] takes the real words in batch order, word order: the order of rows.
        var teacher = tensor(rows.SelectMany(r => r).ToArray(), rows.Count, rows[0].Length);
        var soft = distillation.Soft(emissions[mask], teacher);
        var hard = student.GoldLoss(chunks, emissions, mask);
        return (distillation.Mix(soft, hard).MoveToOuterDisposeScope(), chunks.Sum(c => (long)c.Encoding.Length));
    }
}
