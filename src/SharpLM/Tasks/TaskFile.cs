using System.Text;

namespace SharpLM.Tasks;

/// <summary>
/// Reads a whole task file (CSV, TSV, JSON lines, CoNLL, SQuAD JSON) as strict UTF-8. Unlike corpus
/// lines, these files may hold one very long line (SQuAD's JSON), and they are small enough to read at
/// once. A missing path, a folder, an empty file, invalid UTF-8 or a NUL byte is refused by name.
/// </summary>
public static class TaskFile
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The text of <paramref name="path"/>, without a byte-order mark.</summary>
    /// <exception cref="InvalidInputException">The file is missing, a folder, empty, binary or not UTF-8.</exception>
    public static string ReadText(string path)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path}: is a folder; give a data file.");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: file not found.");
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"{path}: cannot be read ({e.Message}).", e);
        }
        if (bytes.Length == 0) throw new InvalidInputException($"{path}: the file is empty.");
        int nul = Array.IndexOf(bytes, (byte)0);
        if (nul >= 0) throw new InvalidInputException($"{path}: NUL byte at offset {nul}; this looks like a binary file, not text.");
        try
        {
            var text = Strict.GetString(bytes);
            return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidInputException($"{path}: invalid UTF-8 at byte {e.Index}; convert the file to UTF-8.");
        }
    }
}
