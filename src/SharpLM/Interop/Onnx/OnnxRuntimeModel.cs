using Microsoft.ML.OnnxRuntime;
using SharpLM.Data;
using SharpLM.Model;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Interop.Onnx;

/// <summary>
/// An exported folder run by ONNX Runtime: the ONNX file, its config.json and its tokenizer. Its
/// outputs come back as TorchSharp tensors under their ONNX names, so that the task code that reads a
/// TorchSharp model's outputs reads these the same way (the onnx engine of embed, fill-mask, predict
/// and evaluate).
/// </summary>
public sealed class OnnxRuntimeModel : IDisposable
{
    private readonly InferenceSession _session;

    private OnnxRuntimeModel(InferenceSession session, string file, BertConfig config, BertTokenizer tokenizer, int maxLength)
    {
        _session = session;
        File = file;
        Config = config;
        Tokenizer = tokenizer;
        MaxLength = maxLength;
    }

    /// <summary>The ONNX file.</summary>
    public string File { get; }
    /// <summary>The config written beside it (labels included).</summary>
    public BertConfig Config { get; }
    /// <summary>The tokenizer of the folder.</summary>
    public BertTokenizer Tokenizer { get; }
    /// <summary>The folder's model_max_length, capped by the positions.</summary>
    public int MaxLength { get; }
    /// <summary>The names of the model's outputs.</summary>
    public IReadOnlyList<string> OutputNames => _session.OutputNames;
    /// <summary>The folder the ONNX file is in.</summary>
    public string Directory => Path.GetDirectoryName(File)!;

    /// <summary>
    /// Opens an exported folder (its model.onnx, or its only .onnx file) or an ONNX file with config.json
    /// and vocab.txt beside it. <paramref name="threads"/> sets ONNX Runtime's intra-op threads (its
    /// default, one per core, when null); <paramref name="optimization"/> its graph optimisation level.
    /// </summary>
    public static OnnxRuntimeModel Load(string path, int? threads = null, GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        string file = FindFile(path);
        string directory = Path.GetDirectoryName(Path.GetFullPath(file))!;
        var config = BertConfig.Load(directory);
        var tokenizer = HuggingFaceCheckpoint.LoadTokenizer(directory);
        HuggingFaceCheckpoint.CheckVocabulary(config, tokenizer.Vocabulary, directory);
        using var options = new SessionOptions { GraphOptimizationLevel = optimization };
        if (threads is { } n) options.IntraOpNumThreads = n;
        InferenceSession session;
        try { session = new InferenceSession(file, options); }
        catch (OnnxRuntimeException e) { throw new InvalidInputException($"{file}: ONNX Runtime cannot load it ({e.Message.Split('\n')[0]}).", e); }
        foreach (string input in new[] { "input_ids", "attention_mask", "token_type_ids" })
            if (!session.InputNames.Contains(input))
            {
                session.Dispose();
                throw new InvalidInputException($"{file}: the model has no input {input}; SharpLM runs BERT models exported with input_ids, attention_mask and token_type_ids.");
            }
        return new OnnxRuntimeModel(session, Path.GetFullPath(file), config, tokenizer, HuggingFaceCheckpoint.ModelMaxLength(directory, config));
    }

    /// <summary>The ONNX file of a folder, or the file itself.</summary>
    public static string FindFile(string path)
    {
        if (System.IO.File.Exists(path)) return path;
        if (!System.IO.Directory.Exists(path)) throw new InvalidInputException($"{path}: no such ONNX file or folder.");
        string preferred = Path.Combine(path, OnnxExport.ModelFile);
        if (System.IO.File.Exists(preferred)) return preferred;
        var files = System.IO.Directory.GetFiles(path, "*.onnx").Order(StringComparer.Ordinal).ToList();
        return files.Count switch
        {
            1 => files[0],
            0 => throw new InvalidInputException($"{path}: no .onnx file in the folder; export one with 'sharplm export onnx'."),
            _ => throw new InvalidInputException($"{path}: {files.Count} .onnx files and no {OnnxExport.ModelFile}; name the file (--model {files[0]})."),
        };
    }

    /// <summary>Whether the model has the output <paramref name="name"/>.</summary>
    public bool HasOutput(string name) => _session.OutputNames.Contains(name);

    /// <summary>Runs a padded batch and returns the outputs named in <paramref name="outputs"/>, as float tensors in the current dispose scope.</summary>
    public Tensor[] Run(EncodedBatch batch, params string[] outputs) => Run(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, outputs);

    /// <summary>Runs ids, segments and attention mask [batch, length] (int64) and returns the named outputs.</summary>
    public Tensor[] Run(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, params string[] outputs)
    {
        foreach (string name in outputs)
            if (!HasOutput(name))
                throw new InvalidInputException($"{File}: the model has no output {name} (it has {string.Join(", ", _session.OutputNames)}).");
        long[] shape = inputIds.shape;
        using var ids = OrtValue.CreateTensorValueFromMemory(inputIds.data<long>().ToArray(), shape);
        using var mask = OrtValue.CreateTensorValueFromMemory(attentionMask.data<long>().ToArray(), shape);
        using var types = OrtValue.CreateTensorValueFromMemory(tokenTypeIds.data<long>().ToArray(), shape);
        using var runOptions = new RunOptions();
        using var results = _session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [ids, mask, types], outputs);
        var tensors = new Tensor[outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            var info = results[i].GetTensorTypeAndShape();
            tensors[i] = tensor(results[i].GetTensorDataAsSpan<float>().ToArray(), info.Shape);
        }
        return tensors;
    }

    /// <inheritdoc/>
    public void Dispose() => _session.Dispose();
}
