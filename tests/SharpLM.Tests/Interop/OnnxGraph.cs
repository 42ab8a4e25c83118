using Google.Protobuf;

namespace SharpLM.Tests.Interop;

/// <summary>
/// Just enough of an ONNX model file to convert a BERT: the nodes (operator, inputs, outputs) and the
/// float initializers of the main graph, read from the protobuf wire format by field number
/// (onnx.proto: ModelProto.graph = 7; GraphProto.node = 1, initializer = 5, input = 11, output = 12;
/// NodeProto.input = 1, output = 2, name = 3, op_type = 4; TensorProto.dims = 1, data_type = 2,
/// float_data = 4, name = 8, raw_data = 9).
/// </summary>
internal sealed class OnnxGraph
{
    public sealed record Node(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);
    public sealed record Initializer(string Name, long[] Dims, float[] Data);

    public List<Node> Nodes { get; } = new();
    public Dictionary<string, Initializer> Initializers { get; } = new();
    public List<string> Inputs { get; } = new();
    public List<string> Outputs { get; } = new();

    public static OnnxGraph Read(byte[] model)
    {
        var graph = new OnnxGraph();
        var input = new CodedInputStream(model);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 7) graph.ReadGraph(input.ReadBytes());
            else input.SkipLastField();
        }
        return graph;
    }

    private void ReadGraph(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: Nodes.Add(ReadNode(input.ReadBytes())); break;
                case 5: var init = ReadTensor(input.ReadBytes()); Initializers[init.Name] = init; break;
                case 11: Inputs.Add(ReadValueInfoName(input.ReadBytes())); break;
                case 12: Outputs.Add(ReadValueInfoName(input.ReadBytes())); break;
                default: input.SkipLastField(); break;
            }
        }
    }

    private static Node ReadNode(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", op = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: inputs.Add(input.ReadString()); break;
                case 2: outputs.Add(input.ReadString()); break;
                case 3: name = input.ReadString(); break;
                case 4: op = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }
        return new Node(name, op, inputs, outputs);
    }

    private static Initializer ReadTensor(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        var dims = new List<long>();
        var floats = new List<float>();
        byte[]? raw = null;
        int dataType = 0;
        string name = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            int field = WireFormat.GetTagFieldNumber(tag);
            var wire = WireFormat.GetTagWireType(tag);
            switch (field)
            {
                case 1 when wire == WireFormat.WireType.LengthDelimited:
                    var packedDims = input.ReadBytes().CreateCodedInput();
                    while (!packedDims.IsAtEnd) dims.Add(packedDims.ReadInt64());
                    break;
                case 1: dims.Add(input.ReadInt64()); break;
                case 2: dataType = input.ReadInt32(); break;
                case 4 when wire == WireFormat.WireType.LengthDelimited:
                    var packed = input.ReadBytes().ToByteArray();
                    for (int i = 0; i < packed.Length; i += 4) floats.Add(BitConverter.ToSingle(packed, i));
                    break;
                case 4: floats.Add(input.ReadFloat()); break;
                case 8: name = input.ReadString(); break;
                case 9: raw = input.ReadBytes().ToByteArray(); break;
                default: input.SkipLastField(); break;
            }
        }
        float[] data = dataType == 1 && raw is not null
            ? Enumerable.Range(0, raw.Length / 4).Select(i => BitConverter.ToSingle(raw, 4 * i)).ToArray()
            : floats.ToArray();
        return new Initializer(name, dims.ToArray(), dataType == 1 ? data : []);
    }

    private static string ReadValueInfoName(ByteString bytes)
    {
        var input = bytes.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1) return input.ReadString();
            input.SkipLastField();
        }
        return "";
    }
}
