namespace SharpLM.Data;

/// <summary>A sentence pair before masking: segment A, segment B (empty without NSP) and whether B was drawn from another document.</summary>
public sealed record SegmentPair(List<int> A, List<int> B, bool IsRandomNext);

/// <summary>
/// Cuts a tokenised document into training pairs with the semantics of Google's
/// create_pretraining_data.py: sentences are gathered up to a target length (the full length, or with
/// probability short_seq_prob a random shorter one); segment A is a random prefix of them; segment B is
/// the true continuation or, with probability 0.5 (always when only one sentence was gathered), a run of
/// sentences from a random other document, chosen in up to 10 attempts, in which case the sentences not
/// used for A are put back for the next pair; the pair is then trimmed to fit, longest segment first,
/// from a random end. Without NSP (RoBERTa's FULL-SENTENCES within a document, as Cramming packs), the
/// document's tokens are cut into consecutive segments of the target length and B stays empty: no token
/// is thrown away and no example is shorter than it must be.
/// </summary>
public sealed class NextSentencePairs
{
    private readonly int _maxTokens;
    private readonly double _shortSeqProb;
    private readonly bool _nextSentence;
    private readonly Random _random;

    /// <summary>Creates the cutter.</summary>
    /// <param name="maxSeqLength">Tokens per example, [CLS] and [SEP]s included.</param>
    /// <param name="shortSeqProb">Probability of a shorter target length.</param>
    /// <param name="nextSentence">False for --no-nsp: one segment per example.</param>
    /// <param name="random">The random source; the same seed gives the same pairs.</param>
    public NextSentencePairs(int maxSeqLength, double shortSeqProb, bool nextSentence, Random random)
    {
        _nextSentence = nextSentence;
        _maxTokens = maxSeqLength - (nextSentence ? 3 : 2);
        if (_maxTokens < 2) throw new ArgumentOutOfRangeException(nameof(maxSeqLength), "too short for two segments and their special tokens");
        _shortSeqProb = shortSeqProb;
        _random = random;
    }

    /// <summary>The pairs of document <paramref name="index"/> of <paramref name="documents"/> (each a list of tokenised sentences).</summary>
    public List<SegmentPair> FromDocument(IReadOnlyList<IReadOnlyList<int[]>> documents, int index)
    {
        var document = documents[index];
        if (!_nextSentence) return Packed(document);
        var pairs = new List<SegmentPair>();
        int target = NextTarget();

        var chunk = new List<int[]>();
        int chunkLength = 0;
        for (int i = 0; i < document.Count; i++)
        {
            chunk.Add(document[i]);
            chunkLength += document[i].Length;
            if (i != document.Count - 1 && chunkLength < target) continue;
            if (chunk.Count > 0)
            {
                int aEnd = chunk.Count >= 2 ? _random.Next(1, chunk.Count) : 1;
                var a = chunk.Take(aEnd).SelectMany(s => s).ToList();
                var b = new List<int>();
                bool randomNext = false;
                if (chunk.Count == 1 || _random.NextDouble() < 0.5)
                {
                    randomNext = true;
                    int targetB = target - a.Count;
                    int other = index;
                    for (int attempt = 0; attempt < 10 && other == index; attempt++) other = _random.Next(documents.Count);
                    var source = documents[other];
                    for (int j = _random.Next(source.Count); j < source.Count; j++)
                    {
                        b.AddRange(source[j]);
                        if (b.Count >= targetB) break;
                    }
                    i -= chunk.Count - aEnd; // put the unused sentences back
                }
                else
                {
                    b = chunk.Skip(aEnd).SelectMany(s => s).ToList();
                }
                Truncate(a, b);
                if (a.Count >= 1 && b.Count >= 1) pairs.Add(new SegmentPair(a, b, randomNext));
            }
            chunk.Clear();
            chunkLength = 0;
        }
        return pairs;
    }

    // Segments of the target length (a random shorter one with short_seq_prob) that run across sentences.
    private List<SegmentPair> Packed(IReadOnlyList<int[]> document)
    {
        var pairs = new List<SegmentPair>();
        var segment = new List<int>();
        int target = NextTarget();
        foreach (int[] sentence in document)
        {
            foreach (int id in sentence)
            {
                segment.Add(id);
                if (segment.Count < target) continue;
                pairs.Add(new SegmentPair(segment, new List<int>(), false));
                segment = new List<int>();
                target = NextTarget();
            }
        }
        if (segment.Count > 0) pairs.Add(new SegmentPair(segment, new List<int>(), false));
        return pairs;
    }

    private int NextTarget() => _random.NextDouble() < _shortSeqProb ? _random.Next(2, _maxTokens + 1) : _maxTokens;

    private void Truncate(List<int> a, List<int> b)
    {
        while (a.Count + b.Count > _maxTokens)
        {
            var longer = a.Count > b.Count ? a : b;
            if (_random.NextDouble() < 0.5) longer.RemoveAt(0);
            else longer.RemoveAt(longer.Count - 1);
        }
    }
}
