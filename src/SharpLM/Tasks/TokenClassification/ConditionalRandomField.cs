using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace SharpLM.Tasks.TokenClassification;

/// <summary>
/// A linear-chain conditional random field over per-word tag scores (emissions): learned start, end and
/// transition scores (pytorch-crf's names start_transitions, end_transitions, transitions), the negative
/// log-likelihood of gold tag paths through the forward algorithm, and Viterbi decoding. Transitions the
/// <see cref="TagScheme"/> forbids (O -> I-PER, a start on I-) get a fixed -10,000 added, so neither
/// training nor decoding ever uses them.
/// </summary>
public sealed class ConditionalRandomField : nn.Module
{
    private const float Forbidden = -10000f;

    private readonly Parameter start_transitions;
    private readonly Parameter end_transitions;
    private readonly Parameter transitions;
    // Constant penalties, not parameters: they are rebuilt from the labels, so they are not saved.
    private readonly Tensor _startPenalty, _endPenalty, _transitionPenalty;

    /// <summary>Creates the CRF for <paramref name="tags"/> (in id order); scores start uniform in [-0.1, 0.1] as pytorch-crf's.</summary>
    public ConditionalRandomField(IReadOnlyList<string> tags) : base(nameof(ConditionalRandomField))
    {
        int k = tags.Count;
        start_transitions = new Parameter(empty(k).uniform_(-0.1, 0.1));
        end_transitions = new Parameter(empty(k).uniform_(-0.1, 0.1));
        transitions = new Parameter(empty(k, k).uniform_(-0.1, 0.1));
        RegisterComponents();
        var scheme = new TagScheme(tags);
        var start = new float[k];
        var end = new float[k];
        var pairs = new float[k * k];
        for (int i = 0; i < k; i++)
        {
            if (!scheme.CanStart(i)) start[i] = Forbidden;
            if (!scheme.CanEnd(i)) end[i] = Forbidden;
            for (int j = 0; j < k; j++) if (!scheme.CanFollow(i, j)) pairs[i * k + j] = Forbidden;
        }
        _startPenalty = tensor(start);
        _endPenalty = tensor(end);
        _transitionPenalty = tensor(pairs).reshape(k, k);
    }

    /// <summary>Tags the CRF scores.</summary>
    public int Tags => (int)transitions.shape[0];

    /// <summary>
    /// Mean over sequences of -log p(tags | emissions). <paramref name="emissions"/> [batch, words, tags];
    /// <paramref name="tags"/> [batch, words] (int64); <paramref name="mask"/> [batch, words] (bool),
    /// true on real words, which come first in every row, and on the first word of every row.
    /// </summary>
    public Tensor NegativeLogLikelihood(Tensor emissions, Tensor tags, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var (start, end, pairs) = Scores();
        long words = emissions.shape[1];
        var batch = arange(emissions.shape[0], device: emissions.device);
        var maskFloat = mask.to_type(emissions.dtype);

        // Score of the gold path.
        var first = tags[.., 0];
        var gold = start[first] + emissions[batch, 0, first];
        for (long t = 1; t < words; t++)
        {
            var previous = tags[.., t - 1];
            var current = tags[.., t];
            gold = gold + (pairs[previous, current] + emissions[batch, t, current]) * maskFloat[.., t];
        }
        var lengths = mask.sum(1, type: ScalarType.Int64);
        var last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1);
        gold = gold + end[last];

        // Log partition function by the forward algorithm.
        var alpha = start.unsqueeze(0) + emissions[.., 0];
        for (long t = 1; t < words; t++)
        {
            var next = (alpha.unsqueeze(2) + pairs.unsqueeze(0) + emissions[.., t].unsqueeze(1)).logsumexp(1);
            alpha = where(mask[.., t].unsqueeze(1), next, alpha);
        }
        var partition = (alpha + end.unsqueeze(0)).logsumexp(1);
        return (partition - gold).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The best tag path of every row by Viterbi decoding, each as long as the row's real words.</summary>
    public List<int[]> Decode(Tensor emissions, Tensor mask)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (start, end, pairs) = Scores();
        long rows = emissions.shape[0], words = emissions.shape[1];
        var score = start.unsqueeze(0) + emissions[.., 0];
        var backPointers = new List<Tensor>();
        for (long t = 1; t < words; t++)
        {
            var (best, from) = (score.unsqueeze(2) + pairs.unsqueeze(0)).max(1);
            var next = best + emissions[.., t];
            score = where(mask[.., t].unsqueeze(1), next, score);
            backPointers.Add(from);
        }
        score = score + end.unsqueeze(0);
        long[] lengths = mask.sum(1, type: ScalarType.Int64).data<long>().ToArray();
        long[] lastTags = score.argmax(1).data<long>().ToArray();
        var pointers = backPointers.Select(p => p.data<long>().ToArray()).ToArray();
        int k = Tags;
        var paths = new List<int[]>();
        for (int row = 0; row < rows; row++)
        {
            var path = new int[lengths[row]];
            if (path.Length == 0) { paths.Add(path); continue; }
            path[^1] = (int)lastTags[row];
            for (int t = path.Length - 1; t > 0; t--) path[t - 1] = (int)pointers[t - 1][row * k + path[t]];
            paths.Add(path);
        }
        return paths;
    }

    /// <summary>
    /// The scores Viterbi decoding uses, forbidden transitions' -10,000 included, so that anyone can
    /// decode with them alone: the best path maximises start[y0] + the sum of emissions + the sum of
    /// transitions[y(t-1)][y(t)] + end[y(last)].
    /// </summary>
    public (float[] Start, float[] End, float[][] Transitions) DecodingScores()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var (start, end, pairs) = Scores();
        float[] flat = pairs.data<float>().ToArray();
        int k = Tags;
        return (start.data<float>().ToArray(), end.data<float>().ToArray(), Enumerable.Range(0, k).Select(i => flat[(i * k)..((i + 1) * k)]).ToArray());
    }

    /// <summary>Sets the learned scores from <see cref="DecodingScores"/> of a CRF with the same tags (the penalties come off again).</summary>
    public void LoadDecodingScores(float[] start, float[] end, float[][] pairs)
    {
        int k = Tags;
        if (start.Length != k || end.Length != k || pairs.Length != k || pairs.Any(row => row.Length != k))
            throw new InvalidInputException($"the CRF scores do not fit {k} tags.");
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var startScores = tensor(start);
        var endScores = tensor(end);
        var pairScores = tensor(pairs.SelectMany(row => row).ToArray()).reshape(k, k);
        start_transitions.copy_(startScores - _startPenalty);
        end_transitions.copy_(endScores - _endPenalty);
        transitions.copy_(pairScores - _transitionPenalty);
    }

    private (Tensor Start, Tensor End, Tensor Pairs) Scores()
    {
        var device = transitions.device;
        return (start_transitions + _startPenalty.to(device), end_transitions + _endPenalty.to(device), transitions + _transitionPenalty.to(device));
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _startPenalty.Dispose();
            _endPenalty.Dispose();
            _transitionPenalty.Dispose();
        }
        base.Dispose(disposing);
    }
}
