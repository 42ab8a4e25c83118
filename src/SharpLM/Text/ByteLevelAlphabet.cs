namespace SharpLM.Text;

/// <summary>
/// GPT-2's reversible map from the 256 byte values to 256 printable characters: bytes that are printable Latin-1
/// characters ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves, and the other 68 (controls, space, soft hyphen)
/// take U+0100 onwards in byte order, so a space is 'Ġ' and a newline 'Ċ'. Every token of a byte-level BPE
/// vocabulary is a string of these characters, whatever bytes it holds.
/// </summary>
public static class ByteLevelAlphabet
{
    private static readonly char[] ByteToChar = Build();
    private static readonly Dictionary<char, byte> CharToByte = Enumerable.Range(0, 256).ToDictionary(b => ByteToChar[b], b => (byte)b);

    private static char[] Build()
    {
        var map = new char[256];
        static bool StandsForItself(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = (char)(StandsForItself(b) ? b : next++);
        return map;
    }

    /// <summary>The character that stands for <paramref name="value"/>.</summary>
    public static char Of(byte value) => ByteToChar[value];

    /// <summary>The byte characters of <paramref name="bytes"/>, one per byte.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes) => string.Create(bytes.Length, bytes.ToArray(), (chars, source) =>
    {
        for (int i = 0; i < source.Length; i++) chars[i] = ByteToChar[source[i]];
    });

    /// <summary>Appends the bytes that the byte characters of <paramref name="token"/> stand for; false, appending nothing, if one is not a byte character.</summary>
    public static bool TryDecode(ReadOnlySpan<char> token, List<byte> output)
    {
        int before = output.Count;
        foreach (char c in token)
        {
            if (!CharToByte.TryGetValue(c, out byte b))
            {
                output.RemoveRange(before, output.Count - before);
                return false;
            }
            output.Add(b);
        }
        return true;
    }

    /// <summary>The 256 byte characters, in byte order.</summary>
    public static IReadOnlyList<char> All => ByteToChar;
}
