namespace SharpLM.Text;

/// <summary>Where a token came from: the range [Start, End) of characters of the original text. Special tokens have (0, 0).</summary>
public readonly record struct TokenOffset(int Start, int End);

/// <summary>
/// A text (or text pair) turned into model input, with the same fields as a Hugging Face encoding:
/// ids, token strings, token type ids (0 for the first segment, 1 for the second), attention mask,
/// special-tokens mask (1 for the [CLS] and [SEP] the encoder added) and character offsets into the
/// original text (of the first or second text, as <see cref="TypeIds"/> tells).
/// </summary>
/// <remarks>Token strings and the attention mask are derived on first use: bulk tokenisation rarely reads them.</remarks>
public sealed class EncodedText
{
    private readonly Vocabulary _vocabulary;
    private string[]? _tokens;
    private int[]? _attentionMask;

    /// <summary>Creates an encoding; the arrays are taken, not copied.</summary>
    public EncodedText(Vocabulary vocabulary, int[] ids, int[] typeIds, int[] specialTokensMask, TokenOffset[] offsets)
    {
        if (typeIds.Length != ids.Length || specialTokensMask.Length != ids.Length || offsets.Length != ids.Length)
            throw new ArgumentException("every field of an encoding has one entry per token");
        _vocabulary = vocabulary;
        Ids = ids;
        TypeIds = typeIds;
        SpecialTokensMask = specialTokensMask;
        Offsets = offsets;
    }

    /// <summary>Vocabulary ids.</summary>
    public int[] Ids { get; }

    /// <summary>Segment of each token: 0 for the first text, 1 for the second.</summary>
    public int[] TypeIds { get; }

    /// <summary>1 for the [CLS] and [SEP] tokens the encoder added, 0 for tokens of the text.</summary>
    public int[] SpecialTokensMask { get; }

    /// <summary>Character range of each token in its original text; (0, 0) for added special tokens.</summary>
    public TokenOffset[] Offsets { get; }

    /// <summary>Token strings.</summary>
    public string[] Tokens => _tokens ??= Array.ConvertAll(Ids, id => _vocabulary[id]);

    /// <summary>1 for every token (an unpadded encoding attends to all of them).</summary>
    public int[] AttentionMask => _attentionMask ??= Enumerable.Repeat(1, Ids.Length).ToArray();

    /// <summary>Number of tokens.</summary>
    public int Length => Ids.Length;
}
