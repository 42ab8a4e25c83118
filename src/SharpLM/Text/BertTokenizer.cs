using System.Text;

namespace SharpLM.Text;

/// <summary>
/// BERT's full tokenizer: basic tokenisation (<see cref="BertPreTokenizer"/>), then WordPiece
/// (<see cref="WordPieceEncoder"/>), then [CLS]/[SEP] and segment ids. It gives what Hugging Face's
/// BertTokenizer gives for the same vocabulary and casing. Thread-safe.
/// </summary>
public sealed class BertTokenizer
{
    [ThreadStatic] private static Scratch? t_scratch;
    private const int ChunkCharacters = 1024;

    private readonly BertPreTokenizer _preTokenizer;
    private readonly WordPieceEncoder _wordPiece;

    /// <summary>Creates a tokenizer.</summary>
    /// <param name="vocabulary">The WordPiece vocabulary.</param>
    /// <param name="lowercase">True for uncased models (the BERT default).</param>
    /// <param name="stripAccents">Null to follow <paramref name="lowercase"/>, as BERT does.</param>
    public BertTokenizer(Vocabulary vocabulary, bool lowercase = true, bool? stripAccents = null)
    {
        Vocabulary = vocabulary;
        _preTokenizer = new BertPreTokenizer(lowercase, stripAccents ?? lowercase, vocabulary.SpecialTokenIds);
        _wordPiece = new WordPieceEncoder(vocabulary);
    }

    /// <summary>Loads vocab.txt (or a model folder holding one) and creates a tokenizer.</summary>
    public static BertTokenizer Load(string vocabPath, bool lowercase = true) => new(Vocabulary.Load(vocabPath), lowercase);

    /// <summary>The vocabulary.</summary>
    public Vocabulary Vocabulary { get; }

    /// <summary>True when the tokenizer lowercases.</summary>
    public bool Lowercase => _preTokenizer.Lowercase;

    /// <summary>Encodes one text: [CLS] tokens [SEP], truncated to <paramref name="maxLength"/> tokens when given.</summary>
    public EncodedText Encode(string text, int? maxLength = null)
    {
        if (maxLength is < 2) throw new ArgumentOutOfRangeException(nameof(maxLength), "a single text needs room for [CLS] and [SEP]: at least 2");
        var scratch = Scratch.ForThread();
        Tokenize(text, scratch.First, scratch);
        int keep = maxLength is int max ? Math.Min(scratch.First.Count, max - 2) : scratch.First.Count;
        return Assemble(scratch.First, keep, null, 0);
    }

    /// <summary>
    /// Encodes a text pair: [CLS] first [SEP] second [SEP], with type id 1 on the second segment.
    /// Truncation is longest-first: a token is taken from the end of the longer segment (the second on a
    /// tie) until the pair fits.
    /// </summary>
    public EncodedText Encode(string first, string second, int? maxLength = null)
    {
        if (maxLength is < 3) throw new ArgumentOutOfRangeException(nameof(maxLength), "a pair needs room for [CLS] and two [SEP]: at least 3");
        var scratch = Scratch.ForThread();
        Tokenize(first, scratch.First, scratch);
        Tokenize(second, scratch.Second, scratch);
        int a = scratch.First.Count, b = scratch.Second.Count;
        if (maxLength is int max)
        {
            int budget = max - 3;
            while (a + b > budget)
            {
                if (a > b) a--;
                else b--;
            }
        }
        return Assemble(scratch.First, a, scratch.Second, b);
    }

    /// <summary>Appends the ids of <paramref name="text"/> (no special tokens) to <paramref name="ids"/>; the allocation-free path for bulk work.</summary>
    public void AppendIds(ReadOnlySpan<char> text, List<int> ids)
    {
        var scratch = Scratch.ForThread();
        Tokenize(text, scratch.First, scratch);
        var span = scratch.First.Ids;
        foreach (int id in span) ids.Add(id);
    }

    /// <summary>The tokens of <paramref name="text"/> (no special tokens) with their character offsets.</summary>
    public IReadOnlyList<(string Token, TokenOffset Offset)> Tokenize(string text)
    {
        var scratch = Scratch.ForThread();
        Tokenize(text, scratch.First, scratch);
        var result = new (string, TokenOffset)[scratch.First.Count];
        for (int i = 0; i < result.Length; i++)
            result[i] = (Vocabulary[scratch.First.Id(i)], new TokenOffset(scratch.First.Start(i), scratch.First.End(i)));
        return result;
    }

    /// <summary>
    /// Turns ids back into text as Hugging Face's decode does: tokens joined by spaces, <c>##</c>
    /// continuations glued to the piece before, and the spaces before . , ? ! and English
    /// contractions removed.
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var text = new StringBuilder();
        foreach (int id in ids)
        {
            if (skipSpecialTokens && Vocabulary.IsSpecial(id)) continue;
            string token = Vocabulary[id];
            if (token.StartsWith(Vocabulary.ContinuationPrefix, StringComparison.Ordinal) && token.Length > 2 && text.Length > 0)
                text.Append(token, 2, token.Length - 2);
            else
            {
                if (text.Length > 0) text.Append(' ');
                text.Append(token);
            }
        }
        return text.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
            .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re")
            .ToString();
    }

    /// <summary>Fills <paramref name="pieces"/> with the tokens of <paramref name="text"/> and their original offsets.</summary>
    private void Tokenize(ReadOnlySpan<char> text, PieceList pieces, Scratch scratch)
    {
        var words = scratch.Words;
        pieces.Clear();
        int position = 0;
        do
        {
            // Chunks of a few thousand characters keep the working set in cache however long the text.
            position = _preTokenizer.Split(text, position, words, ChunkCharacters);
            for (int w = 0; w < words.Count; w++)
            {
                var word = words.Word(w);
                int special = words.SpecialTokenId(w);
                int mark = pieces.Count;
                if (special >= 0) pieces.Add(special, 0, 1);
                else _wordPiece.Encode(word, words.WordHash(w), pieces);
                // Piece ranges are in normalised characters of the word: map them to the original text.
                for (int p = mark; p < pieces.Count; p++)
                    pieces.SetSpan(p, words.OriginalStart(w, pieces.Start(p)), words.OriginalEnd(w, pieces.End(p) - 1));
            }
        }
        while (position < text.Length);
    }

    private EncodedText Assemble(PieceList first, int firstCount, PieceList? second, int secondCount)
    {
        int length = firstCount + 2 + (second is null ? 0 : secondCount + 1);
        var ids = new int[length];
        var types = new int[length];
        var special = new int[length];
        var offsets = new TokenOffset[length];
        ids[0] = Vocabulary.ClassifierId;
        special[0] = 1;
        int at = 1;
        for (int i = 0; i < firstCount; i++, at++)
        {
            ids[at] = first.Id(i);
            offsets[at] = new TokenOffset(first.Start(i), first.End(i));
        }
        ids[at] = Vocabulary.SeparatorId;
        special[at++] = 1;
        if (second is not null)
        {
            for (int i = 0; i < secondCount; i++, at++)
            {
                ids[at] = second.Id(i);
                types[at] = 1;
                offsets[at] = new TokenOffset(second.Start(i), second.End(i));
            }
            ids[at] = Vocabulary.SeparatorId;
            types[at] = 1;
            special[at] = 1;
        }
        return new EncodedText(Vocabulary, ids, types, special, offsets);
    }

    /// <summary>Buffers reused by one thread across calls.</summary>
    private sealed class Scratch
    {
        public readonly PreTokenizedText Words = new();
        public readonly PieceList First = new();
        public readonly PieceList Second = new();

        public static Scratch ForThread() => t_scratch ??= new Scratch();
    }
}
