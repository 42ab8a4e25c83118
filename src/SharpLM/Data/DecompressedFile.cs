using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace SharpLM.Data;

/// <summary>
/// Opens a file for reading, decompressing <c>.gz</c> and <c>.zst</c> on the fly, and turns what goes
/// wrong inside a decompressor into an <see cref="InvalidInputException"/> naming the file. A truncated
/// gzip file is caught by its trailer: .NET's GZipStream ends quietly where the bytes stop, so the
/// CRC-32 and length of what was decompressed are checked against the last eight bytes of the file.
/// </summary>
public static class DecompressedFile
{
    /// <summary>Opens <paramref name="path"/>; the stream yields the decompressed bytes.</summary>
    /// <exception cref="InvalidInputException">The file cannot be opened.</exception>
    public static Stream Open(string path) => Open(path, out _);

    /// <summary>
    /// Opens <paramref name="path"/>, and gives the file stream under the decompressor too: its position
    /// says how far through the file on disk reading has come (for progress and ETA).
    /// </summary>
    public static Stream Open(string path, out FileStream onDisk)
    {
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException($"{path}: cannot be read ({e.Message}).", e);
        }
        try
        {
            onDisk = file;
            var compression = CorpusFileFormat.Of(path).Compression;
            var trailer = compression == CorpusCompression.Gzip ? GzipTrailer(file, path) : ((uint, uint)?)null;
            return compression switch
            {
                CorpusCompression.Gzip => new CheckedStream(new GZipStream(file, CompressionMode.Decompress), path, "gzip", trailer),
                CorpusCompression.Zstandard => new CheckedStream(new ZstdSharp.DecompressionStream(file), path, "Zstandard", null),
                _ => file,
            };
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static (uint Crc, uint Length) GzipTrailer(FileStream file, string path)
    {
        if (file.Length < 18) throw new InvalidInputException($"{path}: too short to be a gzip file ({file.Length} bytes).");
        Span<byte> trailer = stackalloc byte[8];
        file.Seek(-8, SeekOrigin.End);
        file.ReadExactly(trailer);
        file.Seek(0, SeekOrigin.Begin);
        return (BinaryPrimitives.ReadUInt32LittleEndian(trailer), BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]));
    }

    /// <summary>A read-only decompressing stream whose failures name the file, and which checks a gzip trailer at the end.</summary>
    private sealed class CheckedStream(Stream inner, string path, string kind, (uint Crc, uint Length)? trailer) : Stream
    {
        private readonly Crc32? _crc = trailer is null ? null : new Crc32();
        private long _length;
        private bool _ended;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read;
            try
            {
                read = inner.Read(buffer);
            }
            catch (Exception e) when (e is InvalidDataException or EndOfStreamException or ZstdSharp.ZstdException or IOException)
            {
                throw new InvalidInputException($"{path}: the {kind} data is corrupt or truncated after {_length:N0} decompressed bytes ({e.Message}).", e);
            }
            _length += read;
            _crc?.Append(buffer[..read]);
            if (read == 0 && buffer.Length > 0 && !_ended)
            {
                _ended = true;
                if (trailer is { } expected && (_crc!.GetCurrentHashAsUInt32() != expected.Crc || (uint)_length != expected.Length))
                    throw new InvalidInputException($"{path}: the gzip data ends after {_length:N0} decompressed bytes without matching its trailer (CRC-32 and length): " +
                        "the file is truncated or corrupt (a file of several concatenated gzip members is not supported either: recompress it with gzip).");
            }
            return read;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _length; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
