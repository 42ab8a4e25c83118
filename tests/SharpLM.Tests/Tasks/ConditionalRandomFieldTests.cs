using SharpLM.Tasks.TokenClassification;
using static TorchSharp.torch;

namespace SharpLM.Tests.Tasks;

[Collection(GlobalTorchRandomCollection.Name)]
public class ConditionalRandomFieldTests
{
    private static readonly string[] Tags = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"];

    // Score of one path as the CRF defines it, with the scheme's forbidden moves at -10,000.
    private static double PathScore(int[] path, float[,] emissions, float[] start, float[] end, float[,] transitions, TagScheme scheme)
    {
        const double forbidden = -10000;
        double score = start[path[0]] + (scheme.CanStart(path[0]) ? 0 : forbidden) + emissions[0, path[0]];
        for (int t = 1; t < path.Length; t++)
            score += transitions[path[t - 1], path[t]] + (scheme.CanFollow(path[t - 1], path[t]) ? 0 : forbidden) + emissions[t, path[t]];
        return score + end[path[^1]] + (scheme.CanEnd(path[^1]) ? 0 : forbidden);
    }

    private static IEnumerable<int[]> AllPaths(int length, int tags)
    {
        int total = (int)Math.Pow(tags, length);
        for (int n = 0; n < total; n++)
        {
            var path = new int[length];
            for (int t = 0, rest = n; t < length; t++, rest /= tags) path[t] = rest % tags;
            yield return path;
        }
    }

    [Theory]
    [InlineData("O B-PER I-PER B-LOC I-LOC")]
    [InlineData("O B-PER I-PER E-PER S-PER")]
    [InlineData("平 仄 ○")]
    public void Likelihood_and_Viterbi_path_equal_brute_force_enumeration_of_all_tag_paths(string tagList)
    {
        string[] tags = tagList.Split(' ');
        random.manual_seed(7);
        using var crf = new ConditionalRandomField(tags);
        var scheme = new TagScheme(tags);
        int k = tags.Length, words = 4;
        int[] lengths = [4, 2, 1];
        using var emissions = randn(lengths.Length, words, k) * 2;
        var maskValues = new bool[lengths.Length * words];
        for (int b = 0; b < lengths.Length; b++) for (int t = 0; t < lengths[b]; t++) maskValues[b * words + t] = true;
        using var mask = tensor(maskValues, lengths.Length, words);
        var parameters = crf.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        float[] start = parameters["start_transitions"].data<float>().ToArray(), end = parameters["end_transitions"].data<float>().ToArray();
        float[] flat = parameters["transitions"].data<float>().ToArray();
        var transitions = new float[k, k];
        for (int i = 0; i < k; i++) for (int j = 0; j < k; j++) transitions[i, j] = flat[i * k + j];

        // Gold paths: any valid path of each length (the first valid one in enumeration order).
        var gold = new long[lengths.Length * words];
        var expectedLoss = 0.0;
        var expectedBest = new List<int[]>();
        for (int b = 0; b < lengths.Length; b++)
        {
            var e = new float[lengths[b], k];
            for (int t = 0; t < lengths[b]; t++) for (int j = 0; j < k; j++) e[t, j] = emissions[b, t, j].item<float>();
            var scores = AllPaths(lengths[b], k).Select(p => (Path: p, Score: PathScore(p, e, start, end, transitions, scheme))).ToList();
            double max = scores.Max(s => s.Score);
            double logPartition = max + Math.Log(scores.Sum(s => Math.Exp(s.Score - max)));
            var goldPath = scores.First(s => s.Score > -5000).Path;
            for (int t = 0; t < goldPath.Length; t++) gold[b * words + t] = goldPath[t];
            expectedLoss += logPartition - scores.First(s => s.Path.SequenceEqual(goldPath)).Score;
            expectedBest.Add(scores.MaxBy(s => s.Score).Path);
        }
        expectedLoss /= lengths.Length;

        using var goldTags = tensor(gold, lengths.Length, words);
        using var loss = crf.NegativeLogLikelihood(emissions, goldTags, mask);
        Assert.Equal(expectedLoss, loss.item<float>(), 1e-3);
        var decoded = crf.Decode(emissions, mask);
        for (int b = 0; b < lengths.Length; b++) Assert.Equal(expectedBest[b], decoded[b]);
    }

    [Fact]
    public void BIO_scheme_forbids_an_inside_tag_after_outside_or_another_type_and_at_the_start()
    {
        var scheme = new TagScheme(Tags);
        Assert.Equal("BIO", scheme.Name);
        Assert.False(scheme.CanFollow(0, 2));  // O -> I-PER
        Assert.False(scheme.CanFollow(3, 2));  // B-LOC -> I-PER
        Assert.False(scheme.CanStart(2));
        Assert.True(scheme.CanFollow(1, 2));   // B-PER -> I-PER
        Assert.True(scheme.CanFollow(2, 3));   // I-PER -> B-LOC
        Assert.True(scheme.CanEnd(2));
        var bioes = new TagScheme(["O", "B-PER", "I-PER", "E-PER", "S-PER"]);
        Assert.Equal("BIOES", bioes.Name);
        Assert.False(bioes.CanFollow(1, 0));   // B-PER -> O: an entity must end with E-
        Assert.False(bioes.CanEnd(1));
        Assert.True(bioes.CanFollow(3, 4));    // E-PER -> S-PER
        Assert.Equal("plain", new TagScheme(["平", "仄"]).Name);
    }

    [Fact]
    public void Training_the_CRF_alone_makes_its_Viterbi_path_the_gold_one()
    {
        random.manual_seed(3);
        using var crf = new ConditionalRandomField(Tags);
        using var emissions = zeros(1, 5, Tags.Length);
        using var gold = tensor(new long[] { 1, 2, 0, 3, 4 }, 1, 5);
        using var mask = ones(1, 5, dtype: ScalarType.Bool);
        var optimizer = TorchSharp.torch.optim.Adam(crf.parameters(), 0.1);
        for (int step = 0; step < 100; step++)
        {
            optimizer.zero_grad();
            using var loss = crf.NegativeLogLikelihood(emissions, gold, mask);
            loss.backward();
            optimizer.step();
        }
        Assert.Equal([1, 2, 0, 3, 4], crf.Decode(emissions, mask)[0]);
    }
}
