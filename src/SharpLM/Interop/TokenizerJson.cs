using System.Text.Json;
using System.Text.Json.Nodes;
using SharpLM.Text;

namespace SharpLM.Interop;

/// <summary>
/// Writes the Hugging Face <c>tokenizer.json</c> that describes a SharpLM BERT tokenizer, so that
/// Hugging Face's fast (Rust) tokenizers load the same tokenizer: BertNormalizer (clean text, CJK
/// spacing, lowercasing, accents stripped exactly when lowercasing), BertPreTokenizer, WordPiece with
/// <c>##</c> and 100-character words, and [CLS] ... [SEP] post-processing.
/// </summary>
public static class TokenizerJson
{
    /// <summary>The tokenizer.json text for <paramref name="vocabulary"/>.</summary>
    public static string Create(Vocabulary vocabulary, bool lowercase)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < vocabulary.Count; i++) vocab[vocabulary[i]] = i;
        var added = new JsonArray();
        foreach (var (token, id) in vocabulary.SpecialTokenIds.OrderBy(p => p.Value))
            added.Add(new JsonObject { ["id"] = id, ["content"] = token, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true });
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = new JsonObject { ["type"] = "BertNormalizer", ["clean_text"] = true, ["handle_chinese_chars"] = true, ["strip_accents"] = null, ["lowercase"] = lowercase },
            ["pre_tokenizer"] = new JsonObject { ["type"] = "BertPreTokenizer" },
            ["post_processor"] = new JsonObject
            {
                ["type"] = "BertProcessing",
                ["sep"] = new JsonArray(Vocabulary.Separator, vocabulary.SeparatorId),
                ["cls"] = new JsonArray(Vocabulary.Classifier, vocabulary.ClassifierId),
            },
            ["decoder"] = new JsonObject { ["type"] = "WordPiece", ["prefix"] = Vocabulary.ContinuationPrefix, ["cleanup"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "WordPiece",
                ["unk_token"] = Vocabulary.Unknown,
                ["continuing_subword_prefix"] = Vocabulary.ContinuationPrefix,
                ["max_input_chars_per_word"] = WordPieceEncoder.MaxWordCodePoints,
                ["vocab"] = vocab,
            },
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }

    /// <summary>Writes tokenizer.json atomically.</summary>
    public static void Save(Vocabulary vocabulary, bool lowercase, string path) => AtomicFile.WriteAllText(path, Create(vocabulary, lowercase));
}
