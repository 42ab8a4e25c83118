namespace SharpLM.Text;

/// <summary>Where a token came from: the range [Start, End) of characters of the original text. Special tokens have (0, 0).</summary>
public readonly record struct TokenOffset(int Start, int End);

/// <summary>
/// A text (or text pair) turned into model input, with the same fields as a Hugging Face encoding:
/// ids, token strings, token type ids (0 for the first segment, 1 for the second), attention mask,
/// special-tokens mask (1 for [CLS] and [SEP]) and character offsets into the original text (of the
/// first or second text, as <see cref="TypeIds"/> tells).
/// </summary>
public sealed record EncodedText(
    int[] Ids,
    string[] Tokens,
    int[] TypeIds,
    int[] AttentionMask,
    int[] SpecialTokensMask,
    TokenOffset[] Offsets)
{
    /// <summary>Number of tokens.</summary>
    public int Length => Ids.Length;
}
