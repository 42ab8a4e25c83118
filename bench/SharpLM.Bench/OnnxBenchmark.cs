using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Interop.Onnx;
using SharpLM.Model;
using SharpLM.Tasks.Classification;
using SharpLM.Text;
using static TorchSharp.torch;

namespace SharpLM.Bench;

/// <summary>
/// <c>onnx MODEL_FOLDER TEXT_FILE [--threads 1,2] [--rounds 5] [--batch 8] [--length 128] [--work DIR]</c>:
/// exports the folder (an encoder or a classifier) to ONNX in fp32 and in both int8 forms, then times
/// one full batch (rows of exactly --length tokens cut from the text) through TorchSharp eager
/// (no_grad, eval), ONNX Runtime fp32 and ONNX Runtime int8, alternating engines within each round,
/// and prints tokens/s as medians over rounds; then the cosine of every int8 form's mean-pooled
/// last_hidden_state against fp32's on the text's first lines.
/// </summary>
internal static class OnnxBenchmark
{
    public static int Run(string[] args)
    {
        string folder = args[0], textFile = args[1];
        string Option(string name, string fallback) => Array.IndexOf(args, name) is int i and >= 0 ? args[i + 1] : fallback;
        int[] threadCounts = Option("--threads", "1,2").Split(',').Select(int.Parse).ToArray();
        int rounds = int.Parse(Option("--rounds", "5")), batchSize = int.Parse(Option("--batch", "8")), length = int.Parse(Option("--length", "128"));
        string work = Option("--work", Path.Combine(Path.GetTempPath(), $"sharplm-onnx-bench-{Environment.ProcessId}"));

        var forms = new List<(string Name, OnnxQuantization Quantization)> { ("fp32", OnnxQuantization.None), ("int8", OnnxQuantization.Int8), ("int8-per-tensor", OnnxQuantization.Int8PerTensor) };
        foreach (var (name, quantization) in forms)
        {
            var clock = Stopwatch.StartNew();
            var result = OnnxExport.Export(folder, Path.Combine(work, name, "model.onnx"), quantization);
            Console.WriteLine($"export {name}: {result.Head}, {result.Bytes / 1e6:F1} MB in {clock.Elapsed.TotalSeconds:F1} s");
        }

        var config = BertConfig.Load(folder);
        var tokenizer = HuggingFaceCheckpoint.LoadTokenizer(folder);
        var lines = File.ReadLines(textFile).Where(l => l.Trim().Length > 0).ToList();
        using var batch = FullRows(tokenizer, lines, batchSize, length);
        long tokens = (long)batchSize * length;

        bool classifier = config.Architecture?.EndsWith("ForSequenceClassification", StringComparison.Ordinal) == true;
        using var classify = classifier ? TextClassifier.Load(folder) : null;
        using var encoder = classifier ? null : new BertModel(config);
        if (encoder is not null)
        {
            HuggingFaceCheckpoint.LoadDirectory(encoder, config, folder);
            encoder.eval();
        }
        void Torch()
        {
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            if (classify is not null) classify.Model.call(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
            else encoder!.call(batch.InputIds, batch.TokenTypeIds, batch.AttentionMask);
        }

        Console.WriteLine($"\n{Path.GetFullPath(folder)}: {config.NumHiddenLayers} layers x {config.HiddenSize}, vocabulary {config.VocabSize}, batch {batchSize} x {length}, {rounds} rounds (medians)");
        Console.WriteLine("| threads | TorchSharp eager | ORT fp32 | ORT int8 | ORT int8 per tensor | int8 / eager | int8 / ORT fp32 |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        string output = classifier ? "logits" : "last_hidden_state";
        foreach (int threads in threadCounts)
        {
            set_num_threads(threads);
            var sessions = forms.Select(f => OnnxRuntimeModel.Load(Path.Combine(work, f.Name), threads)).ToList();
            var engines = new List<(string Name, Action Forward)> { ("eager", Torch) };
            engines.AddRange(sessions.Select((s, i) => (forms[i].Name, (Action)(() =>
            {
                using var scope = NewDisposeScope();
                s.Run(batch, output);
            }))));
            foreach (var (_, forward) in engines) { forward(); forward(); }
            var perEngine = engines.Select(_ => new List<double>()).ToList();
            for (int round = 0; round < rounds; round++)
                for (int e = 0; e < engines.Count; e++)
                {
                    var clock = Stopwatch.StartNew();
                    engines[e].Forward();
                    perEngine[e].Add(tokens / clock.Elapsed.TotalSeconds);
                }
            var medians = perEngine.Select(Median.Of).ToList();
            Console.WriteLine($"| {threads} | {medians[0]:N0} | {medians[1]:N0} | {medians[2]:N0} | {medians[3]:N0} | {medians[2] / medians[0]:F2}x | {medians[2] / medians[1]:F2}x |");
            foreach (var s in sessions) s.Dispose();
        }

        // Agreement of the int8 forms with fp32 on real text: cosine of mean-pooled last_hidden_state per line.
        var sample = lines.Take(64).ToList();
        using var full = OnnxRuntimeModel.Load(Path.Combine(work, "fp32"));
        using var textBatch = new EncodedBatch(sample.Select(l => tokenizer.Encode(l, maxLength: length)).ToList(), tokenizer.Vocabulary);
        Tensor MeanPooled(OnnxRuntimeModel model)
        {
            var hidden = model.Run(textBatch, "last_hidden_state")[0];
            var mask = textBatch.AttentionMask.unsqueeze(-1).to(ScalarType.Float32);
            return (hidden * mask).sum(1) / mask.sum(1);
        }
        using (var scope = NewDisposeScope())
        {
            var reference = MeanPooled(full);
            foreach (var (name, _) in forms.Skip(1))
            {
                using var quantized = OnnxRuntimeModel.Load(Path.Combine(work, name));
                var cosines = nn.functional.cosine_similarity(reference, MeanPooled(quantized), dim: 1).data<float>().ToArray();
                Console.WriteLine($"{name}: cosine of mean-pooled last_hidden_state with fp32 over {sample.Count} lines: min {cosines.Min():F4}, mean {cosines.Average():F4}");
            }
        }
        return 0;
    }

    // Rows of exactly `length` tokens: [CLS], consecutive word pieces of the text, [SEP]; no padding.
    private static EncodedBatch FullRows(BertTokenizer tokenizer, List<string> lines, int batch, int length)
    {
        var pieces = new List<int>();
        foreach (string line in lines)
        {
            tokenizer.AppendIds(line, pieces);
            if (pieces.Count >= batch * (length - 2)) break;
        }
        if (pieces.Count < batch * (length - 2)) throw new InvalidOperationException("the text is too short for the batch");
        var vocabulary = tokenizer.Vocabulary;
        var rows = Enumerable.Range(0, batch).Select(b =>
        {
            int[] ids = [vocabulary.ClassifierId, .. pieces.Skip(b * (length - 2)).Take(length - 2), vocabulary.SeparatorId];
            return new EncodedText(vocabulary, ids, new int[length], new int[length], new TokenOffset[length]);
        }).ToList();
        return new EncodedBatch(rows, vocabulary);
    }
}
