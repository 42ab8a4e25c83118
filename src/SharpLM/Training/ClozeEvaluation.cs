using SharpLM.Data;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Training;

/// <summary>One cloze question: a text with exactly one [MASK] and the word that belongs there.</summary>
public sealed record ClozeQuestion(string Text, string Answer);

/// <summary>
/// What a cloze probe measured: of the questions whose answer is one token of the model's vocabulary
/// (others cannot be answered by a single [MASK] and are counted as skipped), the share whose answer
/// was the model's first guess and the share where it was among the first <see cref="K"/>.
/// </summary>
public sealed record ClozeResult(int Questions, int Skipped, double Top1, double TopK, int K);

/// <summary>
/// A fill-mask probe of a pretrained masked LM on held-out sentences: unlike the masked-LM loss, it is
/// not flattered by [UNK] labels or by frequent function words when the questions mask content words.
/// </summary>
public static class ClozeEvaluation
{
    /// <summary>Reads a probe file: one question per line, the text (with one [MASK]) and the answer separated by a tab.</summary>
    /// <exception cref="InvalidInputException">A line lacks the tab, an answer, or exactly one [MASK].</exception>
    public static List<ClozeQuestion> Read(string path)
    {
        var questions = new List<ClozeQuestion>();
        int number = 0;
        foreach (string line in TextFileLines.Read(path))
        {
            number++;
            if (line.Length == 0) continue;
            int tab = line.LastIndexOf('\t');
            string text = tab < 0 ? "" : line[..tab], answer = tab < 0 ? "" : line[(tab + 1)..].Trim();
            int masks = (text.Length - text.Replace("[MASK]", "", StringComparison.Ordinal).Length) / "[MASK]".Length;
            if (tab < 0 || answer.Length == 0 || masks != 1)
                throw new InvalidInputException($"{path}: line {number}: expected a text with exactly one [MASK], a tab, and the answer.");
            questions.Add(new ClozeQuestion(text, answer));
        }
        if (questions.Count == 0) throw new InvalidInputException($"{path}: no cloze questions.");
        return questions;
    }

    /// <summary>Asks <paramref name="model"/> (its <paramref name="module"/> put in eval mode) every question, in batches.</summary>
    public static ClozeResult Run(nn.Module module, IMaskedLanguageModel model, BertTokenizer tokenizer, IReadOnlyList<ClozeQuestion> questions, int k = 10, int batchSize = 32)
    {
        var vocabulary = tokenizer.Vocabulary;
        var answerable = new List<(EncodedText Encoded, int Mask, int Answer)>();
        foreach (var question in questions)
        {
            var pieces = tokenizer.Encode(question.Answer).Ids;
            // [CLS] piece [SEP]: the answer must be one known token.
            if (pieces.Length != 3 || pieces[1] == vocabulary.UnknownId) continue;
            var encoded = tokenizer.Encode(question.Text, maxLength: model.Config.MaxPositionEmbeddings);
            int mask = Array.IndexOf(encoded.Ids, vocabulary.MaskId);
            if (mask >= 0) answerable.Add((encoded, mask, pieces[1]));
        }
        module.eval();
        int top1 = 0, topK = 0;
        using var _ = no_grad();
        foreach (var chunk in answerable.Chunk(batchSize))
        {
            using var scope = NewDisposeScope();
            using var batch = new EncodedBatch(chunk.Select(q => q.Encoded).ToList(), vocabulary);
            // The masks as indexes into the flattened [batch × length] grid: the model projects only those
            // positions onto the vocabulary (with sparse MLM), as in pretraining.
            long length = batch.InputIds.shape[1];
            var positions = tensor(chunk.Select((q, i) => i * length + q.Mask).ToArray());
            var atMask = model.MaskedLmLogits(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, positions);
            long[] best = atMask.topk(Math.Min(k, model.Config.VocabSize)).indexes.data<long>().ToArray();
            int width = best.Length / chunk.Length;
            for (int i = 0; i < chunk.Length; i++)
            {
                var guesses = best.AsSpan(i * width, width);
                if (guesses[0] == chunk[i].Answer) top1++;
                if (guesses.Contains(chunk[i].Answer)) topK++;
            }
        }
        int asked = answerable.Count;
        return new ClozeResult(asked, questions.Count - asked, (double)top1 / Math.Max(asked, 1), (double)topK / Math.Max(asked, 1), k);
    }
}
