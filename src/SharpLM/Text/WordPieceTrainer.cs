using System.Text;

namespace SharpLM.Text;

/// <summary>Settings of <see cref="WordPieceTrainer"/>.</summary>
/// <param name="VocabSize">Tokens wanted, special tokens included.</param>
/// <param name="MinFrequency">A merge is learned only while its pair occurs at least this often.</param>
public sealed record WordPieceTrainerOptions(int VocabSize = 30522, int MinFrequency = 2);

/// <summary>
/// Learns a WordPiece vocabulary from word counts the way Hugging Face's <c>BertWordPieceTokenizer.train</c>
/// does: byte-pair-encoding merges over characters, where every character after the first of a word
/// carries the <c>##</c> prefix, so that the learned pieces are exactly the word-initial and
/// continuation tokens that WordPiece encoding looks up.
/// </summary>
/// <remarks>
/// <para>Why BPE merges rather than the likelihood score count(ab)/(count(a)·count(b)) of the
/// original WordPiece paper: a user who trains a vocabulary in Python with Hugging Face gets this
/// algorithm, so a SharpLM vocabulary is the one they know; and pair counts only ever fall as merges
/// are applied (only pairs with the new token rise), so a lazily updated max-heap finds the best pair
/// exactly, which keeps a 30k vocabulary from tens of megabytes to seconds. With the likelihood score,
/// every merge changes the score of every pair that shares a token with it, and no such heap exists.</para>
/// <para>The vocabulary starts with the special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]), then every
/// character seen (so every CJK ideograph is a token), then the <c>##</c> form of every character seen
/// inside a word, then the merges in the order they were learned. Ties between equally frequent pairs go
/// to the pair of earlier-created tokens, so training is deterministic.</para>
/// </remarks>
public sealed class WordPieceTrainer
{
    private readonly WordPieceTrainerOptions _options;

    /// <summary>Creates a trainer.</summary>
    public WordPieceTrainer(WordPieceTrainerOptions options)
    {
        if (options.VocabSize < Vocabulary.SpecialTokens.Count + 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"vocabulary size must be more than the {Vocabulary.SpecialTokens.Count} special tokens");
        if (options.MinFrequency < 1) throw new ArgumentOutOfRangeException(nameof(options), "minimum frequency must be at least 1");
        _options = options;
    }

    /// <summary>Reports progress: merges learned so far and the vocabulary size reached.</summary>
    public event Action<int, int>? Progress;

    /// <summary>Learns a vocabulary from <paramref name="wordCounts"/> (pre-tokenised words and how often each occurs).</summary>
    public Vocabulary Train(IReadOnlyDictionary<string, long> wordCounts)
    {
        var tokens = new List<string>(Vocabulary.SpecialTokens);
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Count; i++) ids[tokens[i]] = i;
        int Intern(string token)
        {
            if (ids.TryGetValue(token, out int id)) return id;
            id = tokens.Count;
            tokens.Add(token);
            ids[token] = id;
            return id;
        }

        // Words in a fixed order, so that the result does not depend on dictionary order.
        var entries = wordCounts.Where(p => p.Key.Length > 0).OrderBy(p => p.Key, StringComparer.Ordinal).ToArray();
        var initialChars = new SortedSet<string>(StringComparer.Ordinal);
        var innerChars = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (word, _) in entries)
        {
            bool first = true;
            foreach (Rune r in word.EnumerateRunes())
            {
                (first ? initialChars : innerChars).Add(r.ToString());
                first = false;
            }
        }
        foreach (string c in initialChars.Union(innerChars).Order(StringComparer.Ordinal)) Intern(c);
        foreach (string c in innerChars) Intern(Vocabulary.ContinuationPrefix + c);

        var words = new int[entries.Length][];
        var lengths = new int[entries.Length];
        var weights = new long[entries.Length];
        for (int w = 0; w < entries.Length; w++)
        {
            var symbols = new List<int>();
            bool first = true;
            foreach (Rune r in entries[w].Key.EnumerateRunes())
            {
                symbols.Add(ids[first ? r.ToString() : Vocabulary.ContinuationPrefix + r]);
                first = false;
            }
            words[w] = symbols.ToArray();
            lengths[w] = symbols.Count;
            weights[w] = entries[w].Value;
        }

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
        while (tokens.Count < _options.VocabSize && heap.TryDequeue(out long best, out var priority))
        {
            long current = pairCounts.GetValueOrDefault(best);
            if (current != -priority.NegCount)
            {
                if (current > 0) heap.Enqueue(best, (-current, best));
                continue;
            }
            if (current < _options.MinFrequency) break;

            int a = (int)(best >> 32), b = (int)best;
            string right = tokens[b];
            string merged = tokens[a] + (right.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal) ? right[2..] : right);
            int newId = Intern(merged);

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
            if (merges % 1000 == 0) Progress?.Invoke(merges, tokens.Count);
        }
        Progress?.Invoke(merges, tokens.Count);
        return new Vocabulary(tokens, "trained vocabulary");
    }

    private static long Pair(int a, int b) => ((long)a << 32) | (uint)b;

    private static void Add(Dictionary<long, long> delta, long pair, long change) =>
        delta[pair] = delta.GetValueOrDefault(pair) + change;

    private static bool Contains(int[] symbols, int length, int a, int b)
    {
        for (int i = 0; i + 1 < length; i++)
            if (symbols[i] == a && symbols[i + 1] == b) return true;
        return false;
    }
}
