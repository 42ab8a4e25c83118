namespace SharpLM.Text;

/// <summary>
/// The byte-pair-encoding merge loop (Sennrich et al. 2016) that both vocabulary trainers share: words are arrays
/// of symbol ids with a weight (how often the word occurs); the most frequent adjacent pair is merged into a new
/// symbol, everywhere, until the caller wants no more or no pair is frequent enough.
/// </summary>
/// <remarks>
/// Pair counts only ever fall as merges are applied (only pairs with the new symbol rise), so a lazily updated
/// max-heap finds the best pair exactly. Ties between equally frequent pairs go to the pair of earlier-created
/// symbols (the smaller ids, first id first), so training is deterministic.
/// </remarks>
public static class PairMergeLearner
{
    /// <summary>
    /// Merges pairs in <paramref name="words"/> (rewritten in place; their used lengths shrink) while
    /// <paramref name="wantMore"/> says so and the best pair occurs at least <paramref name="minFrequency"/> times.
    /// <paramref name="merge"/> gives the id of the symbol that replaces a pair (a, b); <paramref name="progress"/>
    /// hears the number of merges after each. Returns the number of merges.
    /// </summary>
    public static int Learn(int[][] words, long[] weights, long minFrequency, Func<bool> wantMore, Func<int, int, int> merge, Action<int>? progress = null)
    {
        var lengths = words.Select(w => w.Length).ToArray();
        var pairCounts = new Dictionary<long, long>();
        // Which words hold each pair. A list, not a set: it is a quarter of the memory, and a word listed
        // twice (or no longer holding the pair) is skipped by the check in the merge loop.
        var wordsWithPair = new Dictionary<long, List<int>>();
        for (int w = 0; w < words.Length; w++)
            for (int i = 0; i + 1 < lengths[w]; i++)
            {
                long pair = Pair(words[w][i], words[w][i + 1]);
                pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + weights[w];
                if (!wordsWithPair.TryGetValue(pair, out var list)) wordsWithPair[pair] = list = new List<int>(2);
                if (list.Count == 0 || list[^1] != w) list.Add(w);
            }

        // Max-heap on count, ties to the smaller pair key; entries go stale as counts fall and are
        // re-queued with their current count when popped.
        var heap = new PriorityQueue<long, (long NegCount, long Pair)>();
        foreach (var (pair, count) in pairCounts) heap.Enqueue(pair, (-count, pair));

        int merges = 0;
        var delta = new Dictionary<long, long>();
        while (wantMore() && heap.TryDequeue(out long best, out var priority))
        {
            long current = pairCounts.GetValueOrDefault(best);
            if (current != -priority.NegCount)
            {
                if (current > 0) heap.Enqueue(best, (-current, best));
                continue;
            }
            if (current < minFrequency) break;

            int a = (int)(best >> 32), b = (int)best;
            int newId = merge(a, b);

            delta.Clear();
            foreach (int w in wordsWithPair[best])
            {
                int[] symbols = words[w];
                int length = lengths[w];
                // Stale (an earlier merge removed the pair) or listed twice (this merge already ran here).
                if (!Contains(symbols, length, a, b)) continue;
                long weight = weights[w];
                for (int i = 0; i + 1 < length; i++) Add(delta, Pair(symbols[i], symbols[i + 1]), -weight);
                int write = 0;
                for (int read = 0; read < length; read++)
                {
                    if (read + 1 < length && symbols[read] == a && symbols[read + 1] == b)
                    {
                        symbols[write++] = newId;
                        read++;
                    }
                    else symbols[write++] = symbols[read];
                }
                lengths[w] = write;
                for (int i = 0; i + 1 < write; i++)
                {
                    long pair = Pair(symbols[i], symbols[i + 1]);
                    Add(delta, pair, weight);
                    if (symbols[i] == newId || symbols[i + 1] == newId)
                    {
                        if (!wordsWithPair.TryGetValue(pair, out var list)) wordsWithPair[pair] = list = new List<int>(2);
                        if (list.Count == 0 || list[^1] != w) list.Add(w);
                    }
                }
            }
            wordsWithPair.Remove(best);
            foreach (var (pair, change) in delta)
            {
                if (change == 0) continue;
                long count = pairCounts.GetValueOrDefault(pair) + change;
                if (count <= 0) pairCounts.Remove(pair);
                else pairCounts[pair] = count;
                if (change > 0) heap.Enqueue(pair, (-count, pair));
            }
            merges++;
            if (heap.Count > 4 * pairCounts.Count + 1024)
            {
                // Stale entries pile up as counts fall; rebuilding keeps the heap proportional to the live pairs.
                heap.Clear();
                foreach (var (pair, count) in pairCounts) heap.Enqueue(pair, (-count, pair));
            }
            progress?.Invoke(merges);
        }
        return merges;
    }

    /// <summary>The pair (a, b) of symbol ids as one key: a in the high half, b in the low.</summary>
    internal static long Pair(int a, int b) => ((long)a << 32) | (uint)b;

    private static void Add(Dictionary<long, long> delta, long pair, long change) =>
        delta[pair] = delta.GetValueOrDefault(pair) + change;

    private static bool Contains(int[] symbols, int length, int a, int b)
    {
        for (int i = 0; i + 1 < length; i++)
            if (symbols[i] == a && symbols[i + 1] == b) return true;
        return false;
    }
}
