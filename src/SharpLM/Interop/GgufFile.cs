using System.Text;

namespace SharpLM.Interop;

/// <summary>The tensor types SharpLM writes into GGUF (ggml_type numbers).</summary>
public enum GgufTensorType : uint
{
    /// <summary>32-bit floats.</summary>
    F32 = 0,
    /// <summary>16-bit IEEE floats.</summary>
    F16 = 1,
    /// <summary>Blocks of 32 values: one f16 scale and 32 signed bytes (value = scale × byte).</summary>
    Q8_0 = 8,
}

/// <summary>
/// Writes a GGUF file (version 3), the container of llama.cpp, Ollama and LM Studio: a header, typed key/value
/// metadata, the tensors' names, shapes (fastest-varying dimension first, the reverse of PyTorch's), types and
/// offsets, then the tensor data, each piece aligned to 32 bytes. Written to a temporary file and renamed.
/// </summary>
public sealed class GgufFile
{
    private const uint Magic = 0x46554747; // "GGUF" read as a little-endian uint32
    private const int Alignment = 32;
    private readonly List<(string Key, Action<BinaryWriter> Write)> _metadata = new();
    private readonly List<(string Name, long[] Shape, GgufTensorType Type, byte[] Data)> _tensors = new();

    private enum ValueType : uint { UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9 }

    /// <summary>Adds a uint32 value.</summary>
    public void Add(string key, uint value) => _metadata.Add((key, w => { w.Write((uint)ValueType.UInt32); w.Write(value); }));

    /// <summary>Adds a float32 value.</summary>
    public void Add(string key, float value) => _metadata.Add((key, w => { w.Write((uint)ValueType.Float32); w.Write(value); }));

    /// <summary>Adds a boolean value.</summary>
    public void Add(string key, bool value) => _metadata.Add((key, w => { w.Write((uint)ValueType.Bool); w.Write((byte)(value ? 1 : 0)); }));

    /// <summary>Adds a string value.</summary>
    public void Add(string key, string value) => _metadata.Add((key, w => { w.Write((uint)ValueType.String); WriteString(w, value); }));

    /// <summary>Adds an array of strings.</summary>
    public void Add(string key, IReadOnlyList<string> values) => _metadata.Add((key, w =>
    {
        w.Write((uint)ValueType.Array);
        w.Write((uint)ValueType.String);
        w.Write((ulong)values.Count);
        foreach (string value in values) WriteString(w, value);
    }));

    /// <summary>Adds an array of int32.</summary>
    public void Add(string key, IReadOnlyList<int> values) => _metadata.Add((key, w =>
    {
        w.Write((uint)ValueType.Array);
        w.Write((uint)ValueType.Int32);
        w.Write((ulong)values.Count);
        foreach (int value in values) w.Write(value);
    }));

    /// <summary>
    /// Adds a tensor of PyTorch shape <paramref name="shape"/> (row-major, last dimension fastest) from its float32 values,
    /// stored as <paramref name="type"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Q8_0 for a tensor whose rows are not a multiple of 32 values.</exception>
    public void AddTensor(string name, long[] shape, ReadOnlySpan<float> values, GgufTensorType type)
    {
        byte[] data = type switch
        {
            GgufTensorType.F32 => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray(),
            GgufTensorType.F16 => ToHalf(values),
            GgufTensorType.Q8_0 => shape[^1] % 32 == 0 ? ToQ8(values) : throw new ArgumentException($"{name}: rows of {shape[^1]} values do not split into Q8_0 blocks of 32."),
            _ => throw new ArgumentOutOfRangeException(nameof(type)),
        };
        _tensors.Add((name, shape, type, data));
    }

    private static byte[] ToHalf(ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(2 * i), (Half)values[i]);
        return bytes;
    }

    // ggml's reference quantisation: per block of 32, d = max|x| / 127 (as f16), q = round(x / d).
    private static byte[] ToQ8(ReadOnlySpan<float> values)
    {
        int blocks = values.Length / 32;
        var bytes = new byte[blocks * 34];
        for (int b = 0; b < blocks; b++)
        {
            var block = values.Slice(b * 32, 32);
            float max = 0;
            foreach (float v in block) max = Math.Max(max, Math.Abs(v));
            float d = max / 127f, inverse = d == 0 ? 0 : 1 / d;
            BitConverter.TryWriteBytes(bytes.AsSpan(b * 34), (Half)d);
            for (int i = 0; i < 32; i++) bytes[b * 34 + 2 + i] = (byte)(sbyte)MathF.Round(block[i] * inverse);
        }
        return bytes;
    }

    /// <summary>Writes the file atomically.</summary>
    public void Save(string path) => AtomicFile.Write(path, stream =>
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, write) in _metadata)
        {
            WriteString(w, key);
            write(w);
        }
        ulong offset = 0;
        foreach (var (name, shape, type, data) in _tensors)
        {
            WriteString(w, name);
            w.Write((uint)shape.Length);
            foreach (long dimension in shape.Reverse()) w.Write((ulong)dimension);
            w.Write((uint)type);
            w.Write(offset);
            offset = Align(offset + (ulong)data.Length);
        }
        Pad(w);
        foreach (var (_, _, _, data) in _tensors)
        {
            w.Write(data);
            Pad(w);
        }
    });

    private static ulong Align(ulong offset) => (offset + Alignment - 1) / Alignment * Alignment;

    private static void Pad(BinaryWriter w)
    {
        w.Flush();
        long position = w.BaseStream.Position;
        for (long i = position; i < (long)Align((ulong)position); i++) w.Write((byte)0);
    }

    private static void WriteString(BinaryWriter w, string value)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(value);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }
}
