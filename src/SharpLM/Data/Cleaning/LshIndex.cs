using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace SharpLM.Data.Cleaning;

/// <summary>
/// Locality-sensitive hashing over MinHash signatures (banding, as in Leskovec, Rajaraman and Ullman's
/// Mining of Massive Datasets, ch. 3): a signature is cut into <see cref="Bands"/> bands of
/// <see cref="Rows"/> values, and two documents become candidates when any band agrees, which happens
/// with probability 1 - (1 - J^rows)^bands for Jaccard similarity J. Each candidate is then checked on
/// its signature: it is a near duplicate when the estimate reaches <see cref="Confirmation"/>, the
/// threshold plus two standard errors of an estimate at the threshold, so that a pair below the threshold
/// is almost never removed (under 2.3% of pairs exactly at it; at the defaults, 0.8 and 256 permutations,
/// the bar is 0.85, and a pair at 0.9 is removed 99.6% of the time). The index holds the documents kept
/// so far: for each, one entry per band (<see cref="BandTable"/>) and the low 8 bits of each signature value (two 8-bit values
/// agree by chance with odds 1/256, which the estimate corrects for).
/// </summary>
public sealed class LshIndex
{
    private const int ChunkDocuments = 1 << 16;

    private readonly BandTable _bands = new();
    private readonly List<byte[]> _signatures = new();
    private readonly int _permutations;

    /// <summary>Creates an empty index.</summary>
    /// <param name="permutations">Signature length.</param>
    /// <param name="threshold">Jaccard similarity from which a document is a near duplicate.</param>
    /// <param name="bands">Bands, or 0 for <see cref="OptimalBands"/>.</param>
    public LshIndex(int permutations, double threshold, int bands = 0)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new InvalidInputException($"--near-dup-threshold {threshold}: must be in (0, 1].");
        if (bands < 0 || bands > permutations) throw new InvalidInputException($"--bands {bands}: must be between 1 and --num-perm ({permutations}).");
        (Bands, Rows) = bands == 0 ? OptimalBands(threshold, permutations) : (bands, permutations / bands);
        Threshold = threshold;
        Confirmation = Math.Min(1, threshold + 2 * Math.Sqrt(threshold * (1 - threshold) / permutations));
        _permutations = permutations;
    }

    /// <summary>Bands of the signature.</summary>
    public int Bands { get; }

    /// <summary>Signature values per band.</summary>
    public int Rows { get; }

    /// <summary>The Jaccard similarity from which a pair is a near duplicate.</summary>
    public double Threshold { get; }

    /// <summary>The estimate a candidate's signature must reach: <see cref="Threshold"/> plus two standard errors, sqrt(t (1 - t) / permutations).</summary>
    public double Confirmation { get; }

    /// <summary>Documents in the index.</summary>
    public int Count { get; private set; }

    /// <summary>Candidates checked on their signatures so far (the cost of a permissive banding).</summary>
    public long CandidatesChecked { get; private set; }

    /// <summary>Memory the index holds: the band table and the stored signatures (allocated 65,536 documents at a time).</summary>
    public long Bytes => _bands.Bytes + (long)_signatures.Count * ChunkDocuments * _permutations;

    /// <summary>Memory per document in the index, counting only the signature space in use: what a larger corpus costs per kept document.</summary>
    public double BytesPerDocument => Count == 0 ? 0 : (_bands.Bytes + (double)Count * _permutations) / Count;

    /// <summary>
    /// The banding that minimises 0.2 x (the chance of a candidate below the threshold) + 0.8 x (the chance
    /// of a miss above it), integrated over J as datasketch does. The misses weigh more than datasketch's
    /// 0.5/0.5 because every candidate is checked on its signature: a false candidate costs a comparison,
    /// a miss leaves a duplicate in the corpus.
    /// </summary>
    public static (int Bands, int Rows) OptimalBands(double threshold, int permutations)
    {
        const int steps = 200;
        double best = double.MaxValue;
        (int, int) choice = (1, permutations);
        for (int b = 1; b <= permutations; b++)
            for (int r = 1; r <= permutations / b; r++)
            {
                double falsePositive = 0, falseNegative = 0;
                for (int i = 0; i < steps; i++)
                {
                    double low = threshold * (i + 0.5) / steps, high = threshold + (1 - threshold) * (i + 0.5) / steps;
                    falsePositive += Candidate(low, b, r) * threshold / steps;
                    falseNegative += (1 - Candidate(high, b, r)) * (1 - threshold) / steps;
                }
                double error = 0.2 * falsePositive + 0.8 * falseNegative;
                if (error < best) (best, choice) = (error, (b, r));
            }
        return choice;
    }

    /// <summary>The chance that two documents of Jaccard similarity <paramref name="jaccard"/> share a band.</summary>
    public static double Candidate(double jaccard, int bands, int rows) => 1 - Math.Pow(1 - Math.Pow(jaccard, rows), bands);

    /// <summary>The band keys of <paramref name="signature"/> (one per band), for <see cref="FindDuplicate"/> and <see cref="Add"/>.</summary>
    public void BandKeys(ReadOnlySpan<uint> signature, Span<ulong> keys)
    {
        for (int band = 0; band < Bands; band++)
            keys[band] = XxHash3.HashToUInt64(MemoryMarshal.AsBytes(signature.Slice(band * Rows, Rows)), band); // seeded by band: one table holds them all
    }

    /// <summary>
    /// The first document in the index whose signature agrees with <paramref name="signature"/> on a band
    /// and estimates a Jaccard similarity of at least <see cref="Confirmation"/>, with that estimate; null when none.
    /// </summary>
    public (int Document, double Jaccard)? FindDuplicate(ReadOnlySpan<uint> signature, ReadOnlySpan<ulong> keys)
    {
        Span<int> tried = stackalloc int[Bands];
        int triedCount = 0;
        for (int band = 0; band < Bands; band++)
        {
            int document = _bands.Find(keys[band]);
            if (document < 0 || tried[..triedCount].Contains(document)) continue;
            tried[triedCount++] = document;
            CandidatesChecked++;
            double jaccard = Estimate(signature, document);
            if (jaccard >= Confirmation) return (document, jaccard);
        }
        return null;
    }

    /// <summary>Adds a kept document; returns its number in the index.</summary>
    public int Add(ReadOnlySpan<uint> signature, ReadOnlySpan<ulong> keys)
    {
        int document = Count++;
        if (document / ChunkDocuments == _signatures.Count) _signatures.Add(new byte[ChunkDocuments * _permutations]);
        var stored = _signatures[document / ChunkDocuments].AsSpan(document % ChunkDocuments * _permutations, _permutations);
        for (int i = 0; i < _permutations; i++) stored[i] = (byte)signature[i];
        for (int band = 0; band < Bands; band++) _bands.TryAdd(keys[band], document);
        return document;
    }

    /// <summary>Writes the index (for a resumable run's checkpoint): the band table and the signatures in use.</summary>
    public void Save(BinaryWriter writer)
    {
        writer.Write(Count);
        writer.Write(CandidatesChecked);
        _bands.Save(writer);
        for (int chunk = 0; chunk < _signatures.Count; chunk++)
        {
            int documents = Math.Min(ChunkDocuments, Count - chunk * ChunkDocuments);
            writer.Write(_signatures[chunk], 0, documents * _permutations);
        }
    }

    /// <summary>Reads into this empty index what <see cref="Save"/> wrote from one made with the same settings.</summary>
    public void Load(BinaryReader reader)
    {
        Count = reader.ReadInt32();
        CandidatesChecked = reader.ReadInt64();
        _bands.Load(reader);
        _signatures.Clear();
        for (int done = 0; done < Count; done += ChunkDocuments)
        {
            var chunk = new byte[ChunkDocuments * _permutations];
            reader.BaseStream.ReadExactly(chunk, 0, Math.Min(ChunkDocuments, Count - done) * _permutations);
            _signatures.Add(chunk);
        }
    }

    private double Estimate(ReadOnlySpan<uint> signature, int document)
    {
        var stored = _signatures[document / ChunkDocuments].AsSpan(document % ChunkDocuments * _permutations, _permutations);
        int same = 0;
        for (int i = 0; i < _permutations; i++) if ((byte)signature[i] == stored[i]) same++;
        const double chance = 1.0 / 256;
        return Math.Max(0, (same / (double)_permutations - chance) / (1 - chance));
    }
}
