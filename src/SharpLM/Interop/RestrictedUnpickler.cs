using System.IO.Compression;
using System.Text;
using static TorchSharp.torch;

namespace SharpLM.Interop;

/// <summary>
/// Reads the state dict of a PyTorch checkpoint (pytorch_model.bin, the zip format torch.save has
/// written since 1.6) without ever running code from it. A pickle is a program: a hostile one can name
/// any Python function (os.system) to be called while loading. This reader interprets only the opcodes
/// a state dict needs and accepts only these callables: OrderedDict, the typed storages, and PyTorch's
/// tensor and parameter rebuilders. Anything else is refused by name, and nothing it names is called.
/// </summary>
public static class RestrictedUnpickler
{
    private static readonly Dictionary<string, ScalarType> Storages = new(StringComparer.Ordinal)
    {
        ["torch.FloatStorage"] = ScalarType.Float32, ["torch.DoubleStorage"] = ScalarType.Float64,
        ["torch.HalfStorage"] = ScalarType.Float16, ["torch.BFloat16Storage"] = ScalarType.BFloat16,
        ["torch.LongStorage"] = ScalarType.Int64, ["torch.IntStorage"] = ScalarType.Int32,
        ["torch.ShortStorage"] = ScalarType.Int16, ["torch.CharStorage"] = ScalarType.Int8,
        ["torch.ByteStorage"] = ScalarType.Byte, ["torch.BoolStorage"] = ScalarType.Bool,
    };

    private static readonly HashSet<string> Callables = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
    };

    // What the pickle machine's stack holds besides plain values.
    private sealed record Global(string Name);
    private sealed record Storage(Tensor Data);
    private sealed class Mark;

    /// <summary>Reads the tensors of <paramref name="path"/> by name.</summary>
    /// <exception cref="InvalidInputException">Not a zip-format PyTorch file, a refused callable, or a malformed pickle; the message names the file.</exception>
    public static Dictionary<string, Tensor> ReadStateDict(string path)
    {
        ZipArchive zip;
        try { zip = ZipFile.OpenRead(path); }
        catch (InvalidDataException)
        {
            throw new InvalidInputException($"{path}: not a zip-format PyTorch file; re-save it with torch.save (PyTorch 1.6 or later) or convert it to safetensors.");
        }
        using (zip)
        {
            var pickle = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw new InvalidInputException($"{path}: the zip holds no data.pkl; not a PyTorch checkpoint.");
            string prefix = pickle.FullName[..^"data.pkl".Length];
            byte[] program;
            using (var stream = pickle.Open())
            using (var buffer = new MemoryStream())
            {
                stream.CopyTo(buffer);
                program = buffer.ToArray();
            }
            var created = new List<Tensor>();
            try
            {
                object? result = new Machine(program, key => ReadStorage(zip, prefix, key, path), path, created).Run();
                if (result is not Dictionary<object, object?> dict)
                    throw new InvalidInputException($"{path}: the checkpoint holds a {Describe(result)}, not a state dict.");
                var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (key, value) in dict)
                {
                    if (key is not string name || value is not Tensor tensor)
                        throw new InvalidInputException($"{path}: the state dict maps {Describe(key)} to {Describe(value)}; only names to tensors are read.");
                    state[name] = tensor;
                }
                foreach (var tensor in created.Where(t => !state.Values.Contains(t))) tensor.Dispose();
                return state;
            }
            catch
            {
                foreach (var tensor in created) tensor.Dispose();
                throw;
            }
        }
    }

    private static byte[] ReadStorage(ZipArchive zip, string prefix, string key, string path)
    {
        var entry = zip.GetEntry($"{prefix}data/{key}") ?? throw new InvalidInputException($"{path}: storage {key} is missing from the zip.");
        using var stream = entry.Open();
        var bytes = new byte[entry.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        Tensor => "tensor",
        _ => value.GetType().Name,
    };

    /// <summary>The part of Python's pickle machine a state dict needs (protocols 2 to 4).</summary>
    private sealed class Machine(byte[] program, Func<string, byte[]> storageBytes, string path, List<Tensor> created)
    {
        private readonly List<object?> _stack = new();
        private readonly Dictionary<long, object?> _memo = new();
        private readonly Dictionary<string, Storage> _storages = new(StringComparer.Ordinal);
        private int _at;

        public object? Run()
        {
            while (true)
            {
                if (_at >= program.Length) throw Malformed("the pickle ends without STOP");
                byte op = program[_at++];
                switch (op)
                {
                    case 0x80: _at++; break; // PROTO
                    case 0x95: _at += 8; break; // FRAME: a length hint
                    case (byte)'.': return Pop(); // STOP
                    case (byte)'(': _stack.Add(new Mark()); break;
                    case (byte)'}': _stack.Add(new Dictionary<object, object?>()); break;
                    case (byte)']': _stack.Add(new List<object?>()); break;
                    case (byte)')': _stack.Add(Array.Empty<object?>()); break;
                    case (byte)'N': _stack.Add(null); break;
                    case 0x88: _stack.Add(true); break;
                    case 0x89: _stack.Add(false); break;
                    case (byte)'K': _stack.Add((long)program[_at++]); break;
                    case (byte)'M': _stack.Add((long)BitConverter.ToUInt16(Take(2))); break;
                    case (byte)'J': _stack.Add((long)BitConverter.ToInt32(Take(4))); break;
                    case 0x8a: _stack.Add(Long(Take(program[_at++]))); break; // LONG1
                    case (byte)'G': _stack.Add(BitConverter.ToDouble(Take(8).Reverse().ToArray())); break; // BINFLOAT, big-endian
                    case (byte)'X': _stack.Add(Encoding.UTF8.GetString(Take(checked((int)BitConverter.ToUInt32(Take(4)))))); break;
                    case 0x8c: _stack.Add(Encoding.UTF8.GetString(Take(program[_at++]))); break; // SHORT_BINUNICODE
                    case (byte)'U': _stack.Add(Encoding.Latin1.GetString(Take(program[_at++]))); break; // SHORT_BINSTRING
                    case (byte)'T': _stack.Add(Encoding.Latin1.GetString(Take(checked((int)BitConverter.ToUInt32(Take(4)))))); break;
                    case (byte)'q': _memo[program[_at++]] = Top(); break; // BINPUT
                    case (byte)'r': _memo[BitConverter.ToUInt32(Take(4))] = Top(); break; // LONG_BINPUT
                    case 0x94: _memo[_memo.Count] = Top(); break; // MEMOIZE
                    case (byte)'h': _stack.Add(Memo(program[_at++])); break; // BINGET
                    case (byte)'j': _stack.Add(Memo(BitConverter.ToUInt32(Take(4)))); break; // LONG_BINGET
                    case (byte)'t': _stack.Add(PopToMark().ToArray()); break;
                    case 0x85: _stack.Add(new[] { Pop() }); break;
                    case 0x86: { var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b }); break; }
                    case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); _stack.Add(new[] { a, b, c }); break; }
                    case (byte)'a': { var item = Pop(); ListOnTop().Add(item); break; }
                    case (byte)'e': { var items = PopToMark(); ListOnTop().AddRange(items); break; }
                    case (byte)'s': { var value = Pop(); var key = Pop(); DictOnTop()[key!] = value; break; }
                    case (byte)'u':
                    {
                        var items = PopToMark();
                        var dict = DictOnTop();
                        for (int i = 0; i + 1 < items.Count; i += 2) dict[items[i]!] = items[i + 1];
                        break;
                    }
                    case (byte)'c': _stack.Add(Allow($"{Line()}.{Line()}")); break; // GLOBAL
                    case 0x93: { var name = Pop() as string; var module = Pop() as string; _stack.Add(Allow($"{module}.{name}")); break; } // STACK_GLOBAL
                    case (byte)'Q': _stack.Add(Persistent(Pop())); break; // BINPERSID
                    case (byte)'R': { var args = Pop() as object?[]; var callable = Pop(); _stack.Add(Call(callable, args)); break; }
                    case (byte)'b': Pop(); break; // BUILD: attribute state (OrderedDict's _metadata) is not needed
                    default: throw Malformed($"pickle opcode 0x{op:x2} at byte {_at - 1} is not one a state dict uses");
                }
            }
        }

        private InvalidInputException Malformed(string problem) => new($"{path}: {problem}; SharpLM reads only tensors and plain containers from a checkpoint.");

        private object Allow(string name)
        {
            if (Callables.Contains(name) || Storages.ContainsKey(name)) return new Global(name);
            throw new InvalidInputException($"{path}: the checkpoint asks to call {name}, which is neither a tensor nor a plain container; SharpLM never runs code from a checkpoint and refuses the file.");
        }

        private object Persistent(object? id)
        {
            // ('storage', storage type, key, location, element count)
            if (id is not object?[] { Length: 5 } t || t[0] is not "storage" || t[1] is not Global { Name: var type } || !Storages.TryGetValue(type, out var dtype) || t[2] is not string key)
                throw Malformed("a persistent id is not a tensor storage");
            if (_storages.TryGetValue(key, out var known)) return known;
            byte[] bytes = storageBytes(key);
            long size = dtype switch
            {
                ScalarType.Float64 or ScalarType.Int64 => 8, ScalarType.Float32 or ScalarType.Int32 => 4,
                ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2, _ => 1,
            };
            if (t[4] is not long count || count < 0 || count * size != bytes.Length)
                throw Malformed($"storage {key} holds {bytes.Length:N0} bytes, not {t[4]} elements of {type}");
            var data = empty(count, dtype);
            created.Add(data);
            if (bytes.Length > 0) data.bytes = bytes;
            return _storages[key] = new Storage(data);
        }

        private object? Call(object? callable, object?[]? args)
        {
            if (callable is not Global { Name: var name } || args is null) throw Malformed("REDUCE without a callable and its arguments");
            switch (name)
            {
                case "collections.OrderedDict":
                    return new Dictionary<object, object?>();
                case "torch._utils._rebuild_parameter" when args.Length >= 1 && args[0] is Tensor parameter:
                    return parameter;
                case "torch._utils._rebuild_tensor_v2" when args.Length >= 4 && args[0] is Storage storage && args[1] is long offset
                    && args[2] is object?[] shape && args[3] is object?[] strides && shape.Length == strides.Length:
                {
                    long[] sizes = shape.Select(s => s is long l and >= 0 ? l : throw Malformed("a tensor size is not a count")).ToArray();
                    long[] steps = strides.Select(s => s is long l and >= 0 ? l : throw Malformed("a tensor stride is negative")).ToArray();
                    long last = offset + sizes.Zip(steps).Sum(p => p.First == 0 ? 0 : (p.First - 1) * p.Second);
                    if (offset < 0 || (sizes.All(s => s > 0) && last >= storage.Data.shape[0]))
                        throw Malformed($"a tensor reaches element {last} of a storage of {storage.Data.shape[0]}");
                    var tensor = storage.Data.as_strided(sizes, steps, offset).clone();
                    created.Add(tensor);
                    return tensor;
                }
                default:
                    throw Malformed($"{name} was called with arguments it does not take");
            }
        }

        private byte[] Take(int count)
        {
            if (count < 0 || _at + count > program.Length) throw Malformed("the pickle is cut short");
            var bytes = program.AsSpan(_at, count).ToArray();
            _at += count;
            return bytes;
        }

        private string Line()
        {
            int end = Array.IndexOf(program, (byte)'\n', _at);
            if (end < 0) throw Malformed("the pickle is cut short");
            string text = Encoding.ASCII.GetString(program, _at, end - _at);
            _at = end + 1;
            return text;
        }

        private static long Long(byte[] littleEndian) =>
            littleEndian.Length == 0 ? 0 : (long)new System.Numerics.BigInteger(littleEndian, isUnsigned: false, isBigEndian: false);

        private object? Memo(long key) => _memo.TryGetValue(key, out var value) ? value : throw Malformed($"memo {key} is read before it is written");

        private object? Top() => _stack.Count > 0 ? _stack[^1] : throw Malformed("the pickle's stack underflows");

        private object? Pop()
        {
            var value = Top();
            _stack.RemoveAt(_stack.Count - 1);
            return value is Mark ? throw Malformed("a MARK is used as a value") : value;
        }

        private List<object?> PopToMark()
        {
            int mark = _stack.FindLastIndex(v => v is Mark);
            if (mark < 0) throw Malformed("no MARK to pop to");
            var items = _stack.GetRange(mark + 1, _stack.Count - mark - 1);
            _stack.RemoveRange(mark, _stack.Count - mark);
            return items;
        }

        private List<object?> ListOnTop() => Top() as List<object?> ?? throw Malformed("APPEND onto something that is not a list");

        private Dictionary<object, object?> DictOnTop() => Top() as Dictionary<object, object?> ?? throw Malformed("SETITEM onto something that is not a dict");
    }
}
