using System.Text;
using SharpLM.Interop;
using SharpLM.Text;

namespace SharpLM.Data;

/// <summary>
/// Prepares a corpus for next-token pretraining as GPT-2 and nanoGPT do: every document is encoded with the
/// byte-level BPE and followed by the end-of-text token, and the tokens are appended to one stream per split
/// (train.bin, validation.bin: little-endian int32), which training cuts into full-length windows. A document goes
/// to validation by a draw from (seed, its number), so the split does not depend on the order of files in memory.
/// The tokenizer is copied into the folder, and causal.json is written last.
/// </summary>
public sealed class CausalDataWriter(ByteLevelBpeTokenizer tokenizer, double validationFraction = 0.01, int seed = 12345)
{
    /// <summary>The stream file of a split.</summary>
    public static string StreamFile(string split) => split + ".bin";

    /// <summary>Called every 1,000 documents with the documents and tokens written so far.</summary>
    public event Action<long, long>? Progress;

    /// <summary>Writes the folder <paramref name="output"/> from the corpus files and folders in <paramref name="paths"/>.</summary>
    /// <exception cref="InvalidInputException">The output folder is not empty, the fraction is out of range, or the corpus has no text.</exception>
    public CausalDataManifest Write(IReadOnlyList<string> paths, string output, string textField = "text")
    {
        if (!(validationFraction >= 0 && validationFraction < 1)) throw new InvalidInputException($"--validation-fraction {validationFraction}: must be in [0, 1).");
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
            throw new InvalidInputException($"{output}: the output folder is not empty; choose a new folder or remove it.");
        int endOfText = tokenizer.Id(ByteLevelBpeTrainer.EndOfText)
            ?? throw new InvalidInputException($"the tokenizer has no {ByteLevelBpeTrainer.EndOfText} token to separate documents.");
        Directory.CreateDirectory(output);
        var files = CorpusFiles.Expand(paths);
        long[] documents = new long[2], tokens = new long[2], bytes = new long[2];
        var ids = new List<int>();
        using (var train = new BinaryWriter(File.Create(Path.Combine(output, StreamFile("train")))))
        using (var validation = new BinaryWriter(File.Create(Path.Combine(output, StreamFile("validation")))))
        {
            long number = 0;
            foreach (var document in new CorpusTexts(textField).Read(files))
            {
                if (string.IsNullOrWhiteSpace(document.Text)) continue;
                bool heldOut = new Random(StableSeed.Of(seed, number++, 0xCA05)).NextDouble() < validationFraction;
                int split = heldOut ? 1 : 0;
                ids.Clear();
                tokenizer.Encode(document.Text, ids);
                ids.Add(endOfText);
                var writer = heldOut ? validation : train;
                foreach (int id in ids) writer.Write(id);
                documents[split]++;
                tokens[split] += ids.Count;
                bytes[split] += Encoding.UTF8.GetByteCount(document.Text);
                if (number % 1000 == 0) Progress?.Invoke(number, tokens[0] + tokens[1]);
            }
        }
        if (documents[0] == 0) throw new InvalidInputException($"{string.Join(", ", paths)}: no document went to training; the corpus is empty or --validation-fraction too high.");
        ByteLevelBpeFiles.Save(tokenizer, Path.Combine(output, ByteLevelBpeFiles.TokenizerFile));
        var manifest = new CausalDataManifest(CausalDataManifest.CurrentFormat, tokenizer.Hash(), tokenizer.Count, endOfText, validationFraction, seed,
            documents[0], documents[1], tokens[0], tokens[1], bytes[0], bytes[1]);
        manifest.Save(output);
        return manifest;
    }
}
