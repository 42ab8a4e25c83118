using System.Buffers;
using System.Text.Unicode;

namespace SharpLM.Data;

/// <summary>
/// Reads the lines of a UTF-8 text file, streamed in fixed-size blocks, and refuses what is not
/// text: invalid UTF-8 (with the byte offset), NUL bytes (a binary file), and lines longer than a
/// limit (a 50 MB line is a dump, not a sentence). A byte-order mark is skipped; LF and CRLF both end
/// a line. <c>.gz</c> and <c>.zst</c> files are decompressed as they are read (<see cref="DecompressedFile"/>).
/// </summary>
public static class TextFileLines
{
    /// <summary>The longest line accepted by default, in UTF-16 characters.</summary>
    public const int DefaultMaxLineLength = 1 << 20;

    private const int BlockBytes = 1 << 16;

    /// <summary>Lines of <paramref name="path"/>, without their line ends.</summary>
    /// <exception cref="InvalidInputException">The file is missing, unreadable, binary, not UTF-8, or has a line over the limit.</exception>
    public static IEnumerable<string> Read(string path, int maxLineLength = DefaultMaxLineLength)
    {
        var stream = DecompressedFile.Open(path);
        return Read(stream, path, maxLineLength);
    }

    /// <summary>Lines of an open <paramref name="stream"/> (disposed when the enumeration ends); <paramref name="path"/> names it in errors.</summary>
    public static IEnumerable<string> Read(Stream stream, string path, int maxLineLength = DefaultMaxLineLength)
    {
        using var _ = stream;
        byte[] bytes = ArrayPool<byte>.Shared.Rent(BlockBytes);
        char[] chars = ArrayPool<char>.Shared.Rent(BlockBytes + 4);
        var line = new System.Text.StringBuilder();
        try
        {
            long fileOffset = 0; // bytes decoded so far
            int pending = 0;     // bytes of an incomplete UTF-8 sequence carried to the next block
            int lineNumber = 1;
            bool first = true;
            while (true)
            {
                int read = stream.ReadAtLeast(bytes.AsSpan(pending, BlockBytes - pending), BlockBytes - pending, throwOnEndOfStream: false);
                int available = pending + read;
                bool final = read == 0;
                if (available == 0) break;
                var status = Utf8.ToUtf16(bytes.AsSpan(0, available), chars, out int bytesRead, out int charsWritten,
                    replaceInvalidSequences: false, isFinalBlock: final);
                if (status == System.Buffers.OperationStatus.InvalidData)
                {
                    lineNumber += chars.AsSpan(0, charsWritten).Count('\n');
                    throw new InvalidInputException($"{path}: invalid UTF-8 at byte {fileOffset + bytesRead} (line {lineNumber}); convert the file to UTF-8.");
                }
                // Indices, not spans: a span cannot live across the yield below.
                int pos = 0;
                if (first && charsWritten > 0 && chars[0] == '\uFEFF') pos = 1;
                first = false;
                while (pos < charsWritten)
                {
                    int rest = charsWritten - pos;
                    int end = Array.IndexOf(chars, '\n', pos, rest);
                    // Looked for within the line only: a search to the end of the block for every line is quadratic in short lines.
                    if (chars.AsSpan(pos, (end < 0 ? charsWritten : end) - pos).Contains('\0'))
                        throw new InvalidInputException($"{path}: contains a NUL byte (line {lineNumber}); it looks like a binary file, not text.");
                    int pieceLength = (end < 0 ? charsWritten : end) - pos;
                    if (line.Length + pieceLength > maxLineLength)
                        throw new InvalidInputException($"{path}: line {lineNumber} is longer than {maxLineLength:N0} characters; split it into sentences or paragraphs.");
                    line.Append(chars, pos, pieceLength);
                    if (end < 0) break;
                    if (line.Length > 0 && line[^1] == '\r') line.Length--;
                    yield return line.ToString();
                    line.Clear();
                    lineNumber++;
                    pos = end + 1;
                }
                fileOffset += bytesRead;
                pending = available - bytesRead;
                if (pending > 0) Array.Copy(bytes, bytesRead, bytes, 0, pending);
                if (final) break;
            }
            if (line.Length > 0)
            {
                if (line[^1] == '\r') line.Length--;
                yield return line.ToString();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            ArrayPool<char>.Shared.Return(chars);
        }
    }
}
