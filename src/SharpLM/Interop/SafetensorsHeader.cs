using System.Buffers.Binary;
using System.Text.Json;

namespace SharpLM.Interop;

/// <summary>
/// Checks a .safetensors file's header against the file before any tensor is read: a header of
/// reasonable length that is valid JSON, known dtypes, byte ranges that match each tensor's shape, lie
/// inside the file, do not overlap and cover the data exactly. A truncated file, or a hostile header
/// that claims huge tensors, is refused with a message naming it and without allocating what it claims.
/// </summary>
public static class SafetensorsHeader
{
    // The format's own reference implementation caps the header at 100 MB.
    private const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, int> DtypeBytes = new(StringComparer.Ordinal)
    {
        ["F64"] = 8, ["I64"] = 8, ["U64"] = 8, ["F32"] = 4, ["I32"] = 4, ["U32"] = 4,
        ["F16"] = 2, ["BF16"] = 2, ["I16"] = 2, ["U16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    /// <summary>Validates the header of <paramref name="path"/>.</summary>
    /// <exception cref="InvalidInputException">The header disagrees with the file; the message names the file and the tensor.</exception>
    public static void Verify(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long fileLength = stream.Length;
        if (fileLength < 8) throw Bad(path, $"{fileLength} bytes is too short for a safetensors file (truncated?)");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes) throw Bad(path, $"the header claims {headerLength:N0} bytes (more than the format's 100 MB limit)");
        if ((long)headerLength > fileLength - 8) throw Bad(path, $"the header claims {headerLength:N0} bytes but the file has {fileLength - 8:N0} after its length (truncated?)");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = fileLength - 8 - (long)headerLength;

        JsonDocument document;
        try { document = JsonDocument.Parse(header); }
        catch (JsonException e) { throw Bad(path, $"the header is not valid JSON ({e.Message})"); }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "the header is not a JSON object");
            var ranges = new List<(long Begin, long End, string Name)>();
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                ranges.Add(Range(path, entry, dataLength));
            }
            ranges.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            long covered = 0;
            foreach (var (begin, end, name) in ranges)
            {
                if (begin < covered) throw Bad(path, $"tensor {name} (bytes {begin:N0}-{end:N0}) overlaps the tensor before it");
                if (begin > covered) throw Bad(path, $"bytes {covered:N0}-{begin:N0} of the data belong to no tensor");
                covered = end;
            }
            if (covered != dataLength)
                throw Bad(path, $"the tensors end at byte {covered:N0} of the data but the file holds {dataLength:N0}" + (covered > dataLength ? " (truncated?)" : ""));
        }
    }

    private static (long Begin, long End, string Name) Range(string path, JsonProperty entry, long dataLength)
    {
        try
        {
            var tensor = entry.Value;
            string dtype = tensor.GetProperty("dtype").GetString() ?? "";
            if (!DtypeBytes.TryGetValue(dtype, out int size)) throw Bad(path, $"tensor {entry.Name} has dtype '{dtype}', which SharpLM does not read");
            long elements = 1;
            var shape = tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToList();
            if (shape.Any(d => d < 0)) throw Bad(path, $"tensor {entry.Name} has a negative dimension");
            foreach (long d in shape)
            {
                // A hostile shape can overflow 64 bits; anything larger than the data is refused before that.
                if (d != 0 && elements > dataLength / d)
                    throw Bad(path, $"tensor {entry.Name} claims shape [{string.Join(", ", shape)}], more elements than the file's {dataLength:N0} bytes of data");
                elements *= d;
            }
            var offsets = tensor.GetProperty("data_offsets");
            if (offsets.GetArrayLength() != 2) throw Bad(path, $"tensor {entry.Name}'s data_offsets are not [begin, end]");
            long begin = offsets[0].GetInt64(), end = offsets[1].GetInt64();
            if (begin < 0 || end < begin) throw Bad(path, $"tensor {entry.Name}'s data_offsets [{begin}, {end}] are not an increasing pair");
            if (end > dataLength) throw Bad(path, $"tensor {entry.Name} ends at byte {end:N0} of the data but the file holds {dataLength:N0} (truncated?)");
            if (checked(elements * size) != end - begin)
                throw Bad(path, $"tensor {entry.Name} is {dtype} of {elements:N0} elements ({elements * size:N0} bytes) but its data_offsets span {end - begin:N0}");
            return (begin, end, entry.Name);
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw Bad(path, $"tensor {entry.Name} has no valid dtype, shape and data_offsets ({e.Message})");
        }
    }

    private static InvalidInputException Bad(string path, string problem) => new($"{path}: {problem}.");
}
