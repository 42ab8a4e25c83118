using System.Text;

namespace SharpLM.Text;

/// <summary>
/// A WordPiece vocabulary: one token per line of vocab.txt, the line number (from 0) being its id,
/// as in Google's BERT and Hugging Face's BertTokenizer.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>The padding token.</summary>
    public const string Pad = "[PAD]";
    /// <summary>The token for words that cannot be spelled with the vocabulary.</summary>
    public const string Unknown = "[UNK]";
    /// <summary>The token that starts every sequence.</summary>
    public const string Classifier = "[CLS]";
    /// <summary>The token that ends every segment.</summary>
    public const string Separator = "[SEP]";
    /// <summary>The token that hides a word from the masked language model.</summary>
    public const string Mask = "[MASK]";

    /// <summary>The special tokens in the order a trained vocabulary starts with.</summary>
    public static IReadOnlyList<string> SpecialTokens { get; } = [Pad, Unknown, Classifier, Separator, Mask];

    /// <summary>The prefix of a word piece that continues a word.</summary>
    public const string ContinuationPrefix = "##";

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    /// <summary>Builds a vocabulary from tokens in id order.</summary>
    /// <exception cref="InvalidInputException">A token is repeated or [UNK], [CLS] or [SEP] is missing.</exception>
    public Vocabulary(IEnumerable<string> tokens, string source = "vocabulary")
    {
        _tokens = tokens.ToArray();
        _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (int i = 0; i < _tokens.Length; i++)
        {
            if (_ids.TryGetValue(_tokens[i], out int first))
                throw new InvalidInputException($"{source}: token '{_tokens[i]}' appears twice (lines {first + 1} and {i + 1}); every token must be unique.");
            _ids.Add(_tokens[i], i);
        }
        if (_tokens.Length == 0) throw new InvalidInputException($"{source}: the vocabulary is empty.");
        foreach (string required in new[] { Unknown, Classifier, Separator })
            if (!_ids.ContainsKey(required))
                throw new InvalidInputException($"{source}: the vocabulary has no {required} token; a BERT vocabulary needs [UNK], [CLS] and [SEP].");
        UnknownId = _ids[Unknown];
        ClassifierId = _ids[Classifier];
        SeparatorId = _ids[Separator];
        PadId = _ids.GetValueOrDefault(Pad, -1);
        MaskId = _ids.GetValueOrDefault(Mask, -1);
        SpecialTokenIds = SpecialTokens.Where(_ids.ContainsKey).ToDictionary(t => t, t => _ids[t]);
    }

    /// <summary>Reads vocab.txt: UTF-8, one token per line, LF or CRLF line ends.</summary>
    /// <exception cref="InvalidInputException">The file is missing, not UTF-8, has an empty line, a repeated token, or lacks a required special token.</exception>
    public static Vocabulary Load(string path)
    {
        if (Directory.Exists(path)) path = Path.Combine(path, "vocab.txt");
        if (!File.Exists(path)) throw new InvalidInputException($"{path}: vocabulary file not found.");
        byte[] bytes = File.ReadAllBytes(path);
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidInputException($"{path}: not valid UTF-8 (at byte {e.Index}); a vocab.txt must be UTF-8.");
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        var lines = text.Split('\n');
        int count = lines.Length;
        if (count > 0 && lines[count - 1].Length == 0) count--; // the final line end
        var tokens = new string[count];
        for (int i = 0; i < count; i++)
        {
            string token = lines[i].EndsWith('\r') ? lines[i][..^1] : lines[i];
            if (token.Length == 0) throw new InvalidInputException($"{path}: line {i + 1} is empty; a vocab.txt has one token per line.");
            tokens[i] = token;
        }
        return new Vocabulary(tokens, path);
    }

    /// <summary>Writes vocab.txt (UTF-8, LF line ends) atomically: a temporary file, then a rename.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, string.Join('\n', _tokens) + "\n");

    /// <summary>Number of tokens.</summary>
    public int Count => _tokens.Length;

    /// <summary>The token with id <paramref name="id"/>.</summary>
    public string this[int id] => _tokens[id];

    /// <summary>All tokens in id order.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The id of <paramref name="token"/>, or false when it is not in the vocabulary.</summary>
    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    /// <summary>The id of <paramref name="token"/>, or the [UNK] id.</summary>
    public int IdOf(string token) => _ids.TryGetValue(token, out int id) ? id : UnknownId;

    /// <summary>The special tokens that this vocabulary has, with their ids.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokenIds { get; }

    /// <summary>Id of [UNK].</summary>
    public int UnknownId { get; }
    /// <summary>Id of [CLS].</summary>
    public int ClassifierId { get; }
    /// <summary>Id of [SEP].</summary>
    public int SeparatorId { get; }
    /// <summary>Id of [PAD], or -1 when absent.</summary>
    public int PadId { get; }
    /// <summary>Id of [MASK], or -1 when absent.</summary>
    public int MaskId { get; }

    /// <summary>True when <paramref name="id"/> is one of the special tokens ([UNK] included, as in Hugging Face).</summary>
    public bool IsSpecial(int id) => id == UnknownId || id == ClassifierId || id == SeparatorId || id == PadId || id == MaskId;

    /// <summary>A short fingerprint of the tokens, to check that data and models were made with the same vocabulary.</summary>
    public string Hash()
    {
        byte[] digest = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', _tokens)));
        return Convert.ToHexStringLower(digest.AsSpan(0, 8));
    }
}
