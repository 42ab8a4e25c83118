using SharpLM.Data.Cleaning;

namespace SharpLM.Tests.Data.Cleaning;

/// <summary>How a copy was made from its original.</summary>
public enum CopyEdit
{
    /// <summary>Words replaced by words of other documents.</summary>
    Substitute,

    /// <summary>Words of other documents inserted.</summary>
    Insert,

    /// <summary>Words deleted.</summary>
    Delete,

    /// <summary>The end cut off.</summary>
    Truncate,

    /// <summary>Another document's words appended, as a footer or boilerplate would be.</summary>
    Boilerplate,
}

/// <summary>A copy of a real document, edited down to a target Jaccard similarity.</summary>
/// <param name="Original">Index of the original in the document list.</param>
/// <param name="Text">The copy.</param>
/// <param name="Edit">How it was edited.</param>
/// <param name="Jaccard">The exact Jaccard similarity of its shingle set with the original's.</param>
public sealed record InjectedCopy(int Original, string Text, CopyEdit Edit, double Jaccard);

/// <summary>
/// Makes near-duplicate ground truth from real documents (the evidence of docs/data.md and the cleaning
/// tests): for an original and a target similarity, applies one kind of edit in growing amounts (the
/// positions and replacement words are drawn once, so more edits only ever add to fewer) and keeps the
/// smallest amount whose exact Jaccard similarity, over the same shingles MinHash uses, falls to the
/// target or below.
/// </summary>
public sealed class NearDuplicateInjection(MinHash minHash, IReadOnlyList<string> documents, int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>The exact Jaccard similarity of two texts' shingle sets.</summary>
    public double Jaccard(string a, string b) => Jaccard(minHash.Shingles(a), minHash.Shingles(b));

    /// <summary>The exact Jaccard similarity of two shingle sets.</summary>
    public static double Jaccard(HashSet<ulong> a, HashSet<ulong> b)
    {
        if (a.Count == 0 && b.Count == 0) return 1;
        int common = a.Count < b.Count ? a.Count(b.Contains) : b.Count(a.Contains);
        return common / (double)(a.Count + b.Count - common);
    }

    /// <summary>A copy of document <paramref name="original"/> edited by <paramref name="edit"/> to about <paramref name="target"/>.</summary>
    public InjectedCopy Copy(int original, CopyEdit edit, double target)
    {
        string[] words = documents[original].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var originalShingles = minHash.Shingles(documents[original]);
        int[] rank = new int[words.Length]; // the order in which positions are edited
        foreach (var (position, k) in Enumerable.Range(0, words.Length).OrderBy(_ => _random.Next()).Select((p, k) => (p, k))) rank[position] = k;
        string[] others = Enumerable.Range(0, words.Length).Select(_ => OtherWord(original)).ToArray();
        string Make(int amount) => string.Join(' ', edit switch
        {
            CopyEdit.Substitute => words.Select((w, i) => rank[i] < amount ? others[i] : w),
            CopyEdit.Insert => words.SelectMany((w, i) => rank[i] < amount ? new[] { others[i], w } : new[] { w }),
            CopyEdit.Delete => words.Where((_, i) => rank[i] >= amount),
            CopyEdit.Truncate => words.Take(words.Length - amount),
            _ => words.Concat(others.Take(amount)),
        });
        int low = 1, high = edit == CopyEdit.Truncate ? words.Length - 1 : words.Length;
        while (low < high)
        {
            int middle = (low + high) / 2;
            if (Jaccard(originalShingles, minHash.Shingles(Make(middle))) <= target) high = middle;
            else low = middle + 1;
        }
        string copy = Make(low);
        return new InjectedCopy(original, copy, edit, Jaccard(originalShingles, minHash.Shingles(copy)));
    }

    private string OtherWord(int not)
    {
        while (true)
        {
            int other = _random.Next(documents.Count);
            if (other == not) continue;
            string[] words = documents[other].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length > 0) return words[_random.Next(words.Length)];
        }
    }
}
