using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace SharpLM.Interop.Onnx;

/// <summary>
/// Builds one ONNX graph node by node, over the ONNX protobuf classes. Every value gets a name from the
/// scope it was made in and a counter, so the same calls give the same names, and so the same bytes;
/// every node is named after its first output, which ONNX Runtime needs unique. Constants become
/// initializers, shared by value.
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private readonly GraphProto _graph = new() { Name = "sharplm" };
    private readonly Dictionary<string, int> _counts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _constants = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>The prefix of the names of the values made next, such as bert.encoder.layer.0.attention.</summary>
    public string Scope { get; set; } = "";

    /// <summary>A graph input: int64 [batch_size, sequence_length].</summary>
    public string TokenInput(string name)
    {
        _graph.Input.Add(ValueInfo(name, TensorProto.Types.DataType.Int64, ["batch_size", "sequence_length"]));
        return Claim(name);
    }

    /// <summary>Marks <paramref name="value"/> as a float graph output of the named dimensions (a null name: a fixed size nobody needs to name).</summary>
    public void FloatOutput(string value, IReadOnlyList<object> dims) => _graph.Output.Add(ValueInfo(value, TensorProto.Types.DataType.Float, dims));

    /// <summary>Adds a node and returns its single output, named <paramref name="output"/> or after the scope and operator.</summary>
    public string Node(string op, IReadOnlyList<string> inputs, string? output = null, params (string Name, object Value)[] attributes) =>
        Nodes(op, inputs, 1, output is null ? null : [output], attributes)[0];

    /// <summary>Adds a node with <paramref name="outputs"/> outputs and returns their names.</summary>
    public string[] Nodes(string op, IReadOnlyList<string> inputs, int outputs, string[]? names = null, params (string Name, object Value)[] attributes)
    {
        var node = new NodeProto { OpType = op };
        node.Input.AddRange(inputs);
        var made = new string[outputs];
        for (int i = 0; i < outputs; i++) made[i] = Claim(names?[i] ?? Fresh(op));
        node.Output.AddRange(made);
        node.Name = made[0];
        foreach (var (name, value) in attributes) node.Attribute.Add(Attribute(name, value));
        _graph.Node.Add(node);
        return made;
    }

    /// <summary>A float initializer holding <paramref name="value"/> (any float tensor), under <paramref name="name"/>.</summary>
    public string Initializer(string name, Tensor value)
    {
        using var contiguous = value.detach().to(ScalarType.Float32).contiguous();
        var tensor = new TensorProto { Name = Claim(name), DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(contiguous.bytes) };
        tensor.Dims.AddRange(value.shape);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An int8 initializer (quantised weights and zero points).</summary>
    public string Initializer(string name, sbyte[] values, long[] dims)
    {
        var tensor = new TensorProto { Name = Claim(name), DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom((byte[])(Array)values) };
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>A float initializer of the given values and shape.</summary>
    public string Initializer(string name, float[] values, long[] dims)
    {
        var tensor = new TensorProto { Name = Claim(name), DataType = (int)TensorProto.Types.DataType.Float };
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        tensor.Dims.AddRange(dims);
        _graph.Initializer.Add(tensor);
        return name;
    }

    /// <summary>An int64 constant: a scalar when <paramref name="scalar"/>, else a 1-D tensor.</summary>
    public string Int64s(long[] values, bool scalar = false)
    {
        string key = $"i64{(scalar ? "s" : "")}:{string.Join(',', values)}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { Name = Claim($"const_int64_{_constants.Count}"), DataType = (int)TensorProto.Types.DataType.Int64 };
        tensor.Int64Data.AddRange(values);
        if (!scalar) tensor.Dims.Add(values.Length);
        _graph.Initializer.Add(tensor);
        return _constants[key] = tensor.Name;
    }

    /// <summary>A float scalar constant.</summary>
    public string Float(float value)
    {
        string key = $"f32:{BitConverter.SingleToInt32Bits(value)}";
        if (_constants.TryGetValue(key, out var existing)) return existing;
        var tensor = new TensorProto { Name = Claim($"const_float_{_constants.Count}"), DataType = (int)TensorProto.Types.DataType.Float };
        tensor.FloatData.Add(value);
        _graph.Initializer.Add(tensor);
        return _constants[key] = tensor.Name;
    }

    /// <summary>The model: IR version 8 (ONNX 1.10 and later read it) and the standard opset <paramref name="opset"/>.</summary>
    public ModelProto ToModel(int opset, string producerVersion)
    {
        var model = new ModelProto { IrVersion = 8, ProducerName = "SharpLM", ProducerVersion = producerVersion, Graph = _graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = opset });
        return model;
    }

    private string Fresh(string op)
    {
        string stem = Scope.Length == 0 ? op : $"{Scope}/{op}";
        int n = _counts.TryGetValue(stem, out int c) ? c : 0;
        _counts[stem] = n + 1;
        return n == 0 ? stem : $"{stem}_{n}";
    }

    private string Claim(string name) => _names.Add(name) ? name : throw new InvalidOperationException($"ONNX value name '{name}' used twice");

    private static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType type, IReadOnlyList<object> dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is string param ? new TensorShapeProto.Types.Dimension { DimParam = param } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = shape } },
        };
    }

    private static AttributeProto Attribute(string name, object value) => value switch
    {
        long i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        int i => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = i },
        float f => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = f },
        string s => new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(s) },
        long[] ints => WithInts(new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints }, ints),
        _ => throw new ArgumentException($"attribute {name}: unsupported type {value.GetType()}"),
    };

    private static AttributeProto WithInts(AttributeProto attribute, long[] ints)
    {
        attribute.Ints.AddRange(ints);
        return attribute;
    }
}
