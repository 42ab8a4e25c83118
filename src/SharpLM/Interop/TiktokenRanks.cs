namespace SharpLM.Interop;

/// <summary>
/// Reads tiktoken's vocabulary files (gpt2.tiktoken, r50k_base.tiktoken, ...): one token per line, its bytes in
/// base64, a space, and its rank. Also the compact form Microsoft.ML.Tokenizers' data packages ship: a
/// "Capacity: N" line, then the base64 alone, the rank being the line's place. <see cref="Text.ByteLevelBpeTokenizer.FromMergeableRanks"/> turns them into a
/// tokenizer.
/// </summary>
public static class TiktokenRanks
{
    /// <summary>Every token's bytes with its rank, from <paramref name="stream"/> (named <paramref name="source"/> in messages).</summary>
    /// <exception cref="InvalidInputException">A line is not base64, a space and a rank.</exception>
    public static Dictionary<byte[], int> Read(Stream stream, string source)
    {
        var ranks = new Dictionary<byte[], int>();
        using var reader = new StreamReader(stream);
        int number = 0, implicitRank = 0;
        while (reader.ReadLine() is { } line)
        {
            number++;
            if (line.Length == 0 || (number == 1 && line.StartsWith("Capacity:", StringComparison.Ordinal))) continue;
            int space = line.IndexOf(' ');
            try
            {
                int rank = implicitRank++;
                if (space == 0 || (space > 0 && !int.TryParse(line.AsSpan(space + 1), out rank))) throw new FormatException("no rank");
                ranks[Convert.FromBase64String(space > 0 ? line[..space] : line)] = rank;
            }
            catch (FormatException)
            {
                throw new InvalidInputException($"{source}: line {number} is not \"BASE64 RANK\" or \"BASE64\".");
            }
        }
        return ranks;
    }
}
