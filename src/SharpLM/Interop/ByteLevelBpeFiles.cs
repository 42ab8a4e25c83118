using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpLM.Text;

namespace SharpLM.Interop;

/// <summary>
/// A byte-level BPE tokenizer in Hugging Face's files: tokenizer.json (ByteLevel pre-tokenizer and decoder, BPE model
/// with its vocab and merges, the special tokens as added tokens), which transformers' PreTrainedTokenizerFast,
/// Hugging Face's Rust tokenizers and llama.cpp's converter read; and GPT-2's vocab.json and merges.txt beside it,
/// which older tools and Microsoft.ML.Tokenizers read.
/// </summary>
public static class ByteLevelBpeFiles
{
    /// <summary>The file name Hugging Face gives the whole tokenizer.</summary>
    public const string TokenizerFile = "tokenizer.json";

    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The tokenizer.json text of <paramref name="tokenizer"/>.</summary>
    public static string TokenizerJson(ByteLevelBpeTokenizer tokenizer)
    {
        var merges = new JsonArray();
        foreach (var (left, right) in tokenizer.Merges) merges.Add($"{left} {right}");
        var added = new JsonArray();
        foreach (string special in tokenizer.SpecialTokens)
            added.Add(new JsonObject
            {
                ["id"] = tokenizer.Id(special), ["content"] = special, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        // GPT-2's settings: no prefix space, the GPT-2 pattern; the post-processor only trims offsets.
        JsonObject ByteLevel(bool trimOffsets) => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = trimOffsets, ["use_regex"] = true };
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevel(true),
            ["post_processor"] = ByteLevel(false),
            ["decoder"] = ByteLevel(true),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null, ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false, ["byte_fallback"] = false, ["vocab"] = VocabObject(tokenizer), ["merges"] = merges,
            },
        };
        return json.ToJsonString(Readable);
    }

    // Token → id in id order: vocab.json, and the model's vocab in tokenizer.json (a JSON node has one parent, so one each).
    private static JsonObject VocabObject(ByteLevelBpeTokenizer tokenizer)
    {
        var vocab = new JsonObject();
        foreach (var (token, id) in tokenizer.Vocabulary.OrderBy(p => p.Value)) vocab[token] = id;
        return vocab;
    }

    /// <summary>
    /// Writes tokenizer.json at <paramref name="path"/> (a file name, or a folder to write it in), with vocab.json and
    /// merges.txt beside it, each atomically.
    /// </summary>
    public static void Save(ByteLevelBpeTokenizer tokenizer, string path)
    {
        if (Directory.Exists(path) || path.EndsWith('/')) path = Path.Combine(path, TokenizerFile);
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(folder);
        AtomicFile.WriteAllText(Path.Combine(folder, "vocab.json"), VocabObject(tokenizer).ToJsonString(Readable));
        AtomicFile.WriteText(Path.Combine(folder, "merges.txt"), writer =>
        {
            writer.Write("#version: 0.2\n");
            foreach (var (left, right) in tokenizer.Merges) writer.Write($"{left} {right}\n");
        });
        AtomicFile.WriteAllText(path, TokenizerJson(tokenizer));
    }

    /// <summary>
    /// Reads a byte-level BPE tokenizer.json (or the one in a folder). A tokenizer of another kind (WordPiece,
    /// SentencePiece-style BPE with byte fallback, a normalizer) is refused with what it is.
    /// </summary>
    /// <exception cref="InvalidInputException">The file is missing, not JSON, or not a byte-level BPE tokenizer.</exception>
    public static ByteLevelBpeTokenizer Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, TokenizerFile);
        var json = JsonObjectFile.Read(path, "tokenizer file");
        try
        {
            var model = json["model"] as JsonObject ?? throw new InvalidInputException($"{path}: no \"model\" object.");
            string type = model["type"]?.GetValue<string>() ?? "(none)";
            if (type != "BPE") throw new InvalidInputException($"{path}: the model is {type}, not byte-level BPE.");
            if (model["byte_fallback"]?.GetValue<bool>() == true || json["normalizer"] is JsonObject)
                throw new InvalidInputException($"{path}: a BPE with a normalizer or byte fallback (SentencePiece style) is not supported; SharpLM reads GPT-2-style byte-level BPE.");
            string? preTokenizer = json["pre_tokenizer"]?["type"]?.GetValue<string>();
            if (preTokenizer != "ByteLevel")
                throw new InvalidInputException($"{path}: the pre-tokenizer is {preTokenizer ?? "none"}, not ByteLevel; SharpLM reads GPT-2-style byte-level BPE.");
            if (json["pre_tokenizer"]?["add_prefix_space"]?.GetValue<bool>() == true)
                throw new InvalidInputException($"{path}: add_prefix_space true is not supported.");
            var vocab = (model["vocab"] as JsonObject ?? throw new InvalidInputException($"{path}: no model.vocab object."))
                .ToDictionary(p => p.Key, p => p.Value!.GetValue<int>(), StringComparer.Ordinal);
            var merges = new List<(string, string)>();
            foreach (var merge in model["merges"] as JsonArray ?? [])
            {
                // Older files write "a b", newer ones ["a", "b"].
                if (merge is JsonArray pair && pair.Count == 2) merges.Add((pair[0]!.GetValue<string>(), pair[1]!.GetValue<string>()));
                else
                {
                    string text = merge!.GetValue<string>();
                    int space = text.IndexOf(' ');
                    if (space <= 0) throw new InvalidInputException($"{path}: merge \"{text}\" is not two tokens separated by a space.");
                    merges.Add((text[..space], text[(space + 1)..]));
                }
            }
            var specials = new List<string>();
            foreach (var added in json["added_tokens"] as JsonArray ?? [])
            {
                string content = added!["content"]!.GetValue<string>();
                int id = added["id"]!.GetValue<int>();
                if (vocab.TryGetValue(content, out int existing) && existing != id)
                    throw new InvalidInputException($"{path}: added token '{content}' has id {id} but the vocabulary gives it {existing}.");
                vocab[content] = id;
                specials.Add(content);
            }
            return new ByteLevelBpeTokenizer(vocab, merges, specials, path);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new InvalidInputException($"{path}: a value has the wrong type ({e.Message}).");
        }
    }
}
