namespace SharpLM.Data;

/// <summary>Settings of <c>sharplm data prepare</c>, with BERT's defaults.</summary>
/// <param name="MaxSeqLength">Tokens per example, special tokens included.</param>
/// <param name="DupeFactor">How many times each document is cut (each time with other masks and pairs).</param>
/// <param name="ShortSeqProb">Probability of a shorter target length.</param>
/// <param name="MaskedLmProb">Share of tokens to predict.</param>
/// <param name="MaxPredictions">Most masked positions per example.</param>
/// <param name="WholeWordMask">Mask all pieces of a word together.</param>
/// <param name="NextSentence">Make sentence pairs with NSP labels (false: single segments).</param>
/// <param name="ValidationFraction">Share of documents held out for validation.</param>
/// <param name="Seed">Seed of every random choice: the same seed, corpus and vocabulary give the same shards.</param>
/// <param name="BufferTokens">Tokens of documents held in memory at once; pairs and shuffling happen within this buffer.</param>
/// <param name="ExamplesPerShard">Examples per shard file.</param>
/// <param name="MaskTokenShare">Share of the chosen positions shown as [MASK] (BERT 0.8; 1 is all-[MASK]); the rest are half kept, half a random token.</param>
public sealed record PretrainingDataOptions(
    int MaxSeqLength = 128,
    int DupeFactor = 5,
    double ShortSeqProb = 0.1,
    double MaskedLmProb = 0.15,
    int MaxPredictions = 20,
    bool WholeWordMask = false,
    bool NextSentence = true,
    double ValidationFraction = 0.01,
    int Seed = 12345,
    int BufferTokens = 4_000_000,
    int ExamplesPerShard = 100_000,
    double MaskTokenShare = 0.8)
{
    /// <summary>Checks the settings; the message names the option.</summary>
    public PretrainingDataOptions Validate()
    {
        if (MaxSeqLength < (NextSentence ? 5 : 4)) throw new InvalidInputException($"--max-seq-length {MaxSeqLength}: too short.");
        if (DupeFactor < 1) throw new InvalidInputException($"--dupe-factor {DupeFactor}: must be at least 1.");
        if (!(ShortSeqProb >= 0 && ShortSeqProb <= 1)) throw new InvalidInputException($"--short-seq-prob {ShortSeqProb}: must be in [0, 1].");
        if (!(MaskedLmProb > 0 && MaskedLmProb < 1)) throw new InvalidInputException($"--masked-lm-prob {MaskedLmProb}: must be in (0, 1).");
        if (!(MaskTokenShare >= 0 && MaskTokenShare <= 1)) throw new InvalidInputException($"--mask-token-share {MaskTokenShare}: must be in [0, 1].");
        if (MaxPredictions < 1) throw new InvalidInputException($"--max-predictions {MaxPredictions}: must be at least 1.");
        if (!(ValidationFraction >= 0 && ValidationFraction < 1)) throw new InvalidInputException($"--validation-fraction {ValidationFraction}: must be in [0, 1).");
        if (BufferTokens < 1000) throw new InvalidInputException($"--buffer-tokens {BufferTokens}: must be at least 1000.");
        return this;
    }
}
