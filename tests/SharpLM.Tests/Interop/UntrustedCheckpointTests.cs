using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Tests.Cli;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tests.Interop;

/// <summary>
/// Checkpoints from elsewhere are untrusted: a PyTorch pickle is read without running any of its code,
/// and a safetensors header is checked against the file before anything it claims is allocated.
/// </summary>
[Collection(GlobalTorchRandomCollection.Name)]
public class UntrustedCheckpointTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private string Pickles()
    {
        string folder = _temp.Of("pickles");
        if (!Directory.Exists(folder))
        {
            Directory.CreateDirectory(folder);
            ReferencePython.Run("write_pickles.py", folder);
        }
        return folder;
    }

    [Fact]
    public void A_state_dict_written_by_PyTorch_is_read_with_views_dtypes_and_parameters_intact()
    {
        var state = RestrictedUnpickler.ReadStateDict(Path.Combine(Pickles(), "state.bin"));
        using var grid = arange(12, dtype: ScalarType.Float32).reshape(3, 4);
        Assert.Equal(["bf16", "bias", "half", "parameter", "position_ids", "row", "transposed", "weight"], state.Keys.Order(StringComparer.Ordinal));
        AssertSame(grid, state["weight"]);
        AssertSame(arange(3, dtype: ScalarType.Float32) - 1, state["bias"]);
        AssertSame(grid.t(), state["transposed"]);
        AssertSame(grid[1], state["row"]);
        Assert.Equal(ScalarType.Int64, state["position_ids"].dtype);
        AssertSame(arange(5, dtype: ScalarType.Int64).unsqueeze(0), state["position_ids"]);
        Assert.Equal(ScalarType.Float16, state["half"].dtype);
        AssertSame(arange(6, dtype: ScalarType.Float16).reshape(2, 3), state["half"]);
        Assert.Equal(ScalarType.BFloat16, state["bf16"].dtype);
        AssertSame(arange(4, dtype: ScalarType.BFloat16), state["bf16"]);
        AssertSame(arange(2, dtype: ScalarType.Float64), state["parameter"]);
        foreach (var tensor in state.Values) tensor.Dispose();
    }

    [Fact]
    public void A_pickle_that_calls_os_system_is_refused_by_name_and_nothing_runs()
    {
        string folder = Pickles();
        var e = Assert.Throws<InvalidInputException>(() => RestrictedUnpickler.ReadStateDict(Path.Combine(folder, "hostile.bin")));
        Assert.Contains("hostile.bin: the checkpoint asks to call posix.system", e.Message);
        Assert.Contains("never runs code", e.Message);
        Assert.False(File.Exists(Path.Combine(folder, "PWNED")));

        var legacy = Assert.Throws<InvalidInputException>(() => RestrictedUnpickler.ReadStateDict(Path.Combine(folder, "legacy.bin")));
        Assert.Contains("legacy.bin: not a zip-format PyTorch file", legacy.Message);
    }

    [Fact]
    public void A_model_folder_with_a_hostile_pytorch_model_bin_fails_on_the_command_line_with_one_clear_line()
    {
        string model = TinyModel("hostile");
        File.Delete(Path.Combine(model, HuggingFaceCheckpoint.WeightsFile));
        File.Copy(Path.Combine(Pickles(), "hostile.bin"), Path.Combine(model, HuggingFaceCheckpoint.PyTorchWeightsFile));
        CliRun.Of("fill-mask", "--model", model, "the [MASK] of the union").AssertFailsNaming(Path.Combine(model, HuggingFaceCheckpoint.PyTorchWeightsFile), "posix.system");
    }

    [Fact]
    public void A_truncated_model_safetensors_is_named_on_the_command_line()
    {
        string model = TinyModel("cut");
        string weights = Path.Combine(model, HuggingFaceCheckpoint.WeightsFile);
        byte[] bytes = File.ReadAllBytes(weights);
        File.WriteAllBytes(weights, bytes[..(bytes.Length - 1000)]);
        CliRun.Of("fill-mask", "--model", model, "the [MASK] of the union").AssertFailsNaming(weights, "(truncated?)");
        File.WriteAllBytes(weights, bytes[..5]);
        CliRun.Of("fill-mask", "--model", model, "the [MASK] of the union").AssertFailsNaming(weights, "too short for a safetensors file");
    }

    [Theory]
    [InlineData("huge", "claims shape [2147483648, 2147483648], more elements than the file's")]
    [InlineData("overlap", "overlaps the tensor before it")]
    [InlineData("shape", "but its data_offsets span")]
    [InlineData("dtype", "has dtype 'F8_E9'")]
    [InlineData("header-length", "more than the format's 100 MB limit")]
    [InlineData("not-json", "the header is not valid JSON")]
    public void A_hostile_safetensors_header_is_refused_without_allocating_what_it_claims(string kind, string message)
    {
        string model = TinyModel(kind);
        string weights = Path.Combine(model, HuggingFaceCheckpoint.WeightsFile);
        byte[] bytes = File.ReadAllBytes(weights);
        int length = checked((int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        var header = JsonNode.Parse(Encoding.UTF8.GetString(bytes, 8, length))!.AsObject();
        var tensors = header.Where(p => p.Key != "__metadata__").OrderBy(p => (long)p.Value!["data_offsets"]![0]!).Select(p => p.Value!).ToList();
        byte[] data = bytes[(8 + length)..];
        switch (kind)
        {
            case "huge": tensors[0]["shape"] = new JsonArray(1L << 31, 1L << 31); break;
            case "overlap":
                tensors[1]["data_offsets"] = new JsonArray((long)tensors[0]["data_offsets"]![0]!, (long)tensors[0]["data_offsets"]![0]! + ((long)tensors[1]["data_offsets"]![1]! - (long)tensors[1]["data_offsets"]![0]!));
                break;
            case "shape": tensors[0]["shape"] = new JsonArray(3); break;
            case "dtype": tensors[0]["dtype"] = "F8_E9"; break;
        }
        byte[] newHeader = kind == "not-json" ? "{\"a\": [1, 2"u8.ToArray() : Encoding.UTF8.GetBytes(header.ToJsonString());
        var file = new byte[8 + newHeader.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, kind == "header-length" ? 1UL << 40 : (ulong)newHeader.Length);
        newHeader.CopyTo(file, 8);
        data.CopyTo(file, 8 + newHeader.Length);
        File.WriteAllBytes(weights, file);

        long before = GC.GetTotalAllocatedBytes();
        var e = Assert.Throws<InvalidInputException>(() => SafetensorsHeader.Verify(weights));
        Assert.True(GC.GetTotalAllocatedBytes() - before < 10L * file.Length + 1_000_000, "no allocation of what the header claims");
        Assert.StartsWith(weights + ":", e.Message);
        Assert.Contains(message, e.Message);
        CliRun.Of("fill-mask", "--model", model, "the [MASK] of the union").AssertFailsNaming(weights, message);
    }

    private static void AssertSame(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.equal(actual).all().item<bool>());
    }

    private string TinyModel(string name)
    {
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = new BertConfig { VocabSize = vocabulary.Count, HiddenSize = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 32, MaxPositionEmbeddings = 32 };
        using var model = new BertForPreTraining(config);
        string folder = _temp.Of(name);
        HuggingFaceCheckpoint.Save(model, config, vocabulary, folder);
        return folder;
    }
}
