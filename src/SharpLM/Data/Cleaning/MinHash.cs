using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace SharpLM.Data.Cleaning;

/// <summary>
/// MinHash signatures (Broder 1997) of documents, over the set of their word n-grams (shingles), and an
/// exact-duplicate fingerprint of the same normalised words. Normalisation: lower case, and words are
/// runs of letters and digits, so punctuation, case and spacing never make two copies differ; for
/// Chinese each Han character is a word. Each of the <see cref="Permutations"/> hash functions is
/// <c>(a·x + b) &gt;&gt; 32</c> over a 64-bit shingle hash x, with odd a and b drawn from a fixed seed,
/// so the same text always gets the same signature. The probability that two signatures agree at a
/// position is the Jaccard similarity of the two shingle sets.
/// </summary>
public sealed class MinHash
{
    private readonly ulong[] _a;
    private readonly ulong[] _b;
    private readonly int _ngram;
    private readonly CleaningLanguage _language;

    [ThreadStatic] private static List<ulong>? _tokens;

    /// <summary>Creates the hash family.</summary>
    /// <param name="permutations">Signature length.</param>
    /// <param name="ngram">Words per shingle.</param>
    /// <param name="language">What a word is.</param>
    /// <param name="seed">Seed of the hash family; signatures compare only under the same seed.</param>
    public MinHash(int permutations, int ngram, CleaningLanguage language, ulong seed = 1)
    {
        if (permutations is < 8 or > 1024) throw new InvalidInputException($"--num-perm {permutations}: must be between 8 and 1024.");
        if (ngram is < 1 or > 32) throw new InvalidInputException($"--ngram {ngram}: must be between 1 and 32.");
        _a = new ulong[permutations];
        _b = new ulong[permutations];
        ulong state = seed;
        for (int i = 0; i < permutations; i++)
        {
            _a[i] = DocumentWords.Mix(state += 0x9E3779B97F4A7C15UL) | 1;
            _b[i] = DocumentWords.Mix(state += 0x9E3779B97F4A7C15UL);
        }
        _ngram = ngram;
        _language = language;
    }

    /// <summary>Signature length.</summary>
    public int Permutations => _a.Length;

    /// <summary>
    /// Fills <paramref name="signature"/> (length <see cref="Permutations"/>) with the document's MinHash
    /// signature and returns the exact-duplicate fingerprint of its normalised words. A document with no
    /// word gets a signature of all <see cref="uint.MaxValue"/> and returns false.
    /// </summary>
    public bool Compute(string text, Span<uint> signature, out UInt128 fingerprint)
    {
        var tokens = _tokens ??= new List<ulong>();
        Normalise(text, tokens);
        var hashes = CollectionsMarshal.AsSpan(tokens);
        var exact = new XxHash128();
        exact.Append(MemoryMarshal.AsBytes(hashes));
        fingerprint = exact.GetCurrentHashAsUInt128();
        signature.Fill(uint.MaxValue);
        if (hashes.IsEmpty) return false;
        // The minimum of (a·x + b) over the shingles, then its high 32 bits: the same as the minimum of the
        // high bits (the shift is monotone), and 64-bit lanes need no shift inside the loop.
        Span<ulong> minimum = stackalloc ulong[_a.Length];
        minimum.Fill(ulong.MaxValue);
        int shingles = Math.Max(1, hashes.Length - _ngram + 1);
        for (int s = 0; s < shingles; s++) Permute(Shingle(hashes, s), minimum);
        for (int i = 0; i < signature.Length; i++) signature[i] = (uint)(minimum[i] >> 32);
        return true;
    }

    /// <summary>
    /// The set of the document's shingle hashes, as the signature sees them: for computing the exact
    /// Jaccard similarity that signatures estimate (in checks and benchmarks, not in cleaning).
    /// </summary>
    public HashSet<ulong> Shingles(string text)
    {
        var tokens = new List<ulong>();
        Normalise(text, tokens);
        var hashes = CollectionsMarshal.AsSpan(tokens);
        var set = new HashSet<ulong>();
        if (hashes.IsEmpty) return set;
        for (int s = 0; s < Math.Max(1, hashes.Length - _ngram + 1); s++) set.Add(Shingle(hashes, s));
        return set;
    }

    /// <summary>The hash of the shingle starting at word <paramref name="start"/> (the whole document when it is shorter than the n-gram).</summary>
    private ulong Shingle(ReadOnlySpan<ulong> words, int start)
    {
        int n = Math.Min(_ngram, words.Length);
        ulong x = (ulong)n;
        for (int k = 0; k < n; k++) x = DocumentWords.Mix(x * 0x9E3779B97F4A7C15UL + words[start + k]);
        return x;
    }

    /// <summary>Lowers <paramref name="minimum"/> to a·x + b where that is smaller, 8 or 4 permutations per instruction where the CPU can.</summary>
    private void Permute(ulong x, Span<ulong> minimum)
    {
        int i = 0;
        ref ulong a = ref MemoryMarshal.GetArrayDataReference(_a);
        ref ulong b = ref MemoryMarshal.GetArrayDataReference(_b);
        ref ulong m = ref MemoryMarshal.GetReference(minimum);
        if (Vector512.IsHardwareAccelerated)
        {
            var vx = Vector512.Create(x);
            for (; i + 8 <= minimum.Length; i += 8)
                Vector512.Min(Vector512.LoadUnsafe(ref a, (nuint)i) * vx + Vector512.LoadUnsafe(ref b, (nuint)i), Vector512.LoadUnsafe(ref m, (nuint)i)).StoreUnsafe(ref m, (nuint)i);
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var vx = Vector256.Create(x);
            for (; i + 4 <= minimum.Length; i += 4)
                Vector256.Min(Vector256.LoadUnsafe(ref a, (nuint)i) * vx + Vector256.LoadUnsafe(ref b, (nuint)i), Vector256.LoadUnsafe(ref m, (nuint)i)).StoreUnsafe(ref m, (nuint)i);
        }
        for (; i < minimum.Length; i++) minimum[i] = Math.Min(minimum[i], _a[i] * x + _b[i]);
    }

    /// <summary>The hashes of the document's normalised words, in order.</summary>
    private void Normalise(string text, List<ulong> tokens)
    {
        tokens.Clear();
        ulong hash = 0;
        bool inWord = false;
        foreach (char raw in text)
        {
            bool han = _language == CleaningLanguage.Chinese && DocumentWords.IsHan(raw);
            if (char.IsLetterOrDigit(raw) && !han)
            {
                if (!inWord) { hash = DocumentWords.FnvOffset; inWord = true; }
                hash = (hash ^ char.ToLowerInvariant(raw)) * DocumentWords.FnvPrime;
                continue;
            }
            if (inWord) { tokens.Add(DocumentWords.Mix(hash)); inWord = false; }
            if (han) tokens.Add(DocumentWords.Mix((DocumentWords.FnvOffset ^ raw) * DocumentWords.FnvPrime));
        }
        if (inWord) tokens.Add(DocumentWords.Mix(hash));
    }
}
