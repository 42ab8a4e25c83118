using SharpLM.Data;

namespace SharpLM.Tests.Data;

public class NextSentencePairsTests
{
    // Document d's sentence s holds ids d*10000 + s*100 + k: every id says where it came from.
    private static List<IReadOnlyList<int[]>> Documents(int count, Random random, int maxSentences = 12, int maxSentenceLength = 40) =>
        Enumerable.Range(1, count).Select(d => (IReadOnlyList<int[]>)Enumerable.Range(0, random.Next(1, maxSentences))
            .Select(s => Enumerable.Range(0, random.Next(3, maxSentenceLength)).Select(k => d * 10000 + s * 100 + k).ToArray()).ToList()).ToList();

    private static int DocumentOf(int id) => id / 10000;
    private static int Order(int id) => id % 10000;

    [Fact]
    public void Pairs_fit_the_length_and_B_is_the_continuation_or_from_another_document()
    {
        var random = new Random(11);
        var documents = Documents(300, random);
        var cutter = new NextSentencePairs(maxSeqLength: 64, shortSeqProb: 0.1, nextSentence: true, random);
        int continued = 0, randomNext = 0;
        for (int d = 0; d < documents.Count; d++)
        {
            foreach (var pair in cutter.FromDocument(documents, d))
            {
                Assert.True(pair.A.Count >= 1 && pair.B.Count >= 1);
                Assert.True(pair.A.Count + pair.B.Count <= 64 - 3);
                Assert.All(pair.A, id => Assert.Equal(d + 1, DocumentOf(id)));
                // Each segment is a run of the document in order (trimming only removes ends).
                Assert.True(pair.A.Zip(pair.A.Skip(1)).All(p => Order(p.Second) > Order(p.First)));
                if (pair.IsRandomNext)
                {
                    randomNext++;
                    Assert.All(pair.B, id => Assert.NotEqual(d + 1, DocumentOf(id)));
                }
                else
                {
                    continued++;
                    Assert.All(pair.B, id => Assert.Equal(d + 1, DocumentOf(id)));
                    Assert.True(Order(pair.B[0]) > Order(pair.A[^1]), "B follows A");
                }
            }
        }
        // Single-sentence chunks always get a random B (there is no continuation to take), so the share
        // is above one half; documents of many short sentences keep those chunks rare.
        double share = (double)randomNext / (randomNext + continued);
        Assert.InRange(share, 0.5, 0.7);
    }

    [Fact]
    public void With_many_short_sentences_B_is_random_half_the_time()
    {
        var random = new Random(12);
        var documents = Documents(300, random, maxSentences: 60, maxSentenceLength: 7).Where(d => d.Count > 20).ToList();
        var cutter = new NextSentencePairs(maxSeqLength: 64, shortSeqProb: 0.0, nextSentence: true, random);
        var pairs = Enumerable.Range(0, documents.Count).SelectMany(d => cutter.FromDocument(documents, d)).ToList();
        Assert.True(pairs.Count > 500);
        Assert.InRange(pairs.Count(p => p.IsRandomNext) / (double)pairs.Count, 0.45, 0.58);
    }

    [Fact]
    public void Short_sequences_appear_with_short_seq_prob_and_the_same_seed_gives_the_same_pairs()
    {
        var documents = Documents(200, new Random(3));
        int Short(double probability) => Enumerable.Range(0, documents.Count)
            .SelectMany(d => new NextSentencePairs(128, probability, true, new Random(d)).FromDocument(documents, d))
            .Count(p => p.A.Count + p.B.Count < 40);
        Assert.True(Short(1.0) > 2 * Short(0.0), $"{Short(1.0)} short pairs with probability 1, {Short(0.0)} with 0");

        var first = new NextSentencePairs(128, 0.1, true, new Random(42)).FromDocument(documents, 7);
        var again = new NextSentencePairs(128, 0.1, true, new Random(42)).FromDocument(documents, 7);
        Assert.Equal(first.Select(p => (string.Join(',', p.A), string.Join(',', p.B), p.IsRandomNext)), again.Select(p => (string.Join(',', p.A), string.Join(',', p.B), p.IsRandomNext)));
    }

    [Fact]
    public void Without_NSP_each_document_is_packed_into_full_length_segments_losing_no_token()
    {
        var documents = Documents(50, new Random(5));
        var cutter = new NextSentencePairs(64, 0.0, nextSentence: false, new Random(5));
        for (int d = 0; d < documents.Count; d++)
        {
            var pairs = cutter.FromDocument(documents, d);
            Assert.All(pairs, p => Assert.Empty(p.B));
            Assert.All(pairs, p => Assert.False(p.IsRandomNext));
            // Every segment but the document's last is full ([CLS] and [SEP] take two of the 64), and
            // the segments are the document's tokens, in order, across sentence ends.
            Assert.All(pairs.SkipLast(1), p => Assert.Equal(62, p.A.Count));
            Assert.InRange(pairs[^1].A.Count, 1, 62);
            Assert.Equal(documents[d].SelectMany(s => s), pairs.SelectMany(p => p.A));
        }
    }

    [Fact]
    public void Without_NSP_short_seq_prob_draws_shorter_segments()
    {
        var documents = Documents(100, new Random(6), maxSentences: 30);
        var pairs = Enumerable.Range(0, documents.Count).SelectMany(d => new NextSentencePairs(64, 0.5, false, new Random(d)).FromDocument(documents, d).SkipLast(1)).ToList();
        double shorter = pairs.Count(p => p.A.Count < 62) / (double)pairs.Count;
        Assert.InRange(shorter, 0.35, 0.65);
    }
}
