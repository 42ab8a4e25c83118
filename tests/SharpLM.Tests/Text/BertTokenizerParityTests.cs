using System.Globalization;
using SharpLM.Text;

namespace SharpLM.Tests.Text;

/// <summary>
/// Our ids against Hugging Face's own tokenizers (the Rust library, loading the tokenizer.json we
/// write) and two independent .NET WordPiece encoders, on the real bert-base-uncased vocabulary and
/// real text. Where the .NET references disagree with Hugging Face, Hugging Face's rules decide, and
/// each such case has a test of its own below.
/// </summary>
public class BertTokenizerParityTests
{
    private static readonly Lazy<BertTokenizer> Ours = new(() => BertTokenizer.Load(TestData.BertBaseUncasedVocab));

    // ML.Tokenizers drops characters of the Unicode symbol categories (S*: $ + < = > ^ ` | ~ and
    // the like, □ ...). To BERT they are punctuation (the ASCII ones) or word characters: kept.
    private static bool IsSymbol(char c) => char.GetUnicodeCategory(c) is UnicodeCategory.MathSymbol
        or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol;

    // Neither reference puts CJK ideographs outside the Basic Multilingual Plane (surrogate pairs,
    // CJK Extension B and later) into words of their own, as BERT's _tokenize_chinese_chars does.
    private static bool HasSupplementaryCharacter(string line) => line.Any(char.IsSurrogate);

    [Fact]
    public void Ids_equal_Hugging_Face_tokenizers_on_every_line_of_the_default_corpus()
    {
        var lines = TestData.Lines(TestData.SotuPath).Concat(TestData.Lines(TestData.TangPath));
        AssertSameIds(lines, ReferenceTokenizers.HuggingFaceIds, "Hugging Face tokenizers", minimumLines: 27_000);
    }

    [Fact]
    public void Hugging_Face_tokenizers_agree_on_every_case_where_the_NET_references_differ()
    {
        string[] cases =
        [
            "The state of the [MASK] is strong.",                    // typed special token
            string.Concat(Enumerable.Repeat("state", 21)),           // 105-character word
            "卷雲山\U00027944\U00027944，碎石水磷磷。",             // supplementary CJK ideographs
            "$5 + 3 < 4 = x^2 `code` a|b ~c □",                      // symbols
            "Ça va, ÉTÉ e\u0301t\u00E9! İstanbul \u00A0 a\u200Bb", // accents, dotted I, Zs, Cf
        ];
        AssertSameIds(cases, ReferenceTokenizers.HuggingFaceIds, "Hugging Face tokenizers", minimumLines: cases.Length);
    }

    [Fact]
    public void Ids_equal_FastBertTokenizer_on_every_State_of_the_Union_paragraph()
    {
        AssertSameIds(TestData.Lines(TestData.SotuPath), ReferenceTokenizers.FastBertIds, "FastBertTokenizer", minimumLines: 190);
    }

    [Fact]
    public void Ids_equal_FastBertTokenizer_on_Tang_poems_without_supplementary_characters()
    {
        var lines = TestData.Lines(TestData.TangPath).Where(l => !HasSupplementaryCharacter(l));
        AssertSameIds(lines, ReferenceTokenizers.FastBertIds, "FastBertTokenizer", minimumLines: 20_000);
    }

    [Fact]
    public void Ids_equal_MlTokenizers_on_State_of_the_Union_paragraphs_without_the_symbols_it_drops()
    {
        var lines = TestData.Lines(TestData.SotuPath).Where(l => !l.Any(IsSymbol));
        AssertSameIds(lines, ReferenceTokenizers.MlTokenizersIds, "Microsoft.ML.Tokenizers", minimumLines: 100);
    }

    [Fact]
    public void Ids_equal_MlTokenizers_on_Tang_poems_without_symbol_characters()
    {
        var lines = TestData.Lines(TestData.TangPath).Where(l => !l.Any(IsSymbol) && !HasSupplementaryCharacter(l));
        AssertSameIds(lines, ReferenceTokenizers.MlTokenizersIds, "Microsoft.ML.Tokenizers", minimumLines: 20_000);
    }

    [Fact]
    public void Disagreement_MlTokenizers_drops_symbol_characters_that_BertTokenizer_keeps()
    {
        // BERT's _is_punctuation treats every non-alphanumeric printable ASCII character as
        // punctuation, so "$" is a token, and "□" is a word character (an [UNK] here). ML.Tokenizers
        // loses both. Hugging Face keeps them: so do we. Without the tokens that come from symbol
        // characters, our ids are ML.Tokenizers' on every such line.
        var lines = TestData.Lines(TestData.SotuPath).Concat(TestData.Lines(TestData.TangPath))
            .Where(l => l.Any(IsSymbol) && !HasSupplementaryCharacter(l)).ToList();
        Assert.True(lines.Count > 50);
        Assert.Contains(Ours.Value.Vocabulary.IdOf("$"), Ours.Value.Encode(lines.First(l => l.Contains('$'))).Ids);
        foreach (string line in lines)
        {
            var ours = Ours.Value.Encode(line);
            var withoutSymbols = ours.Ids.Where((id, i) =>
                !(ours.SpecialTokensMask[i] == 0 && line[ours.Offsets[i].Start..ours.Offsets[i].End].All(IsSymbol)));
            Assert.True(withoutSymbols.SequenceEqual(ReferenceTokenizers.MlTokenizersIds(line)), line);
        }
    }

    [Fact]
    public void Disagreement_neither_reference_splits_supplementary_CJK_ideographs()
    {
        // "卷雲山𧥄𧥄": U+27944 is a CJK Extension B ideograph; BERT's _tokenize_chinese_chars puts
        // spaces around it, so two of them are two words (two [UNK]). FastBertTokenizer makes one word
        // of them; ML.Tokenizers drops them altogether.
        string line = TestData.Lines(TestData.TangPath).First(l => l.Contains("\U00027944\U00027944"));
        var vocab = Ours.Value.Vocabulary;
        var ours = Ours.Value.Encode("\U00027944\U00027944").Ids;
        Assert.Equal(new[] { vocab.ClassifierId, vocab.UnknownId, vocab.UnknownId, vocab.SeparatorId }, ours);
        Assert.Equal(new[] { vocab.ClassifierId, vocab.UnknownId, vocab.SeparatorId }, ReferenceTokenizers.FastBertIds("\U00027944\U00027944"));
        Assert.Equal("[CLS] [SEP]", string.Join(' ', ReferenceTokenizers.MlTokenizersIds("\U00027944\U00027944").Select(i => vocab[i])));
        Assert.NotEqual(Ours.Value.Encode(line).Ids, ReferenceTokenizers.FastBertIds(line));
    }

    [Fact]
    public void Disagreement_FastBertTokenizer_misses_the_100_character_unknown_word_rule()
    {
        // BERT's WordpieceTokenizer turns any word longer than 100 characters into [UNK] (max_input_chars_per_word).
        string word = string.Concat(Enumerable.Repeat("state", 21)); // 105 characters, spellable in pieces
        int[] ours = Ours.Value.Encode(word).Ids;
        var vocab = Ours.Value.Vocabulary;
        Assert.Equal(new[] { vocab.ClassifierId, vocab.UnknownId, vocab.SeparatorId }, ours);
        Assert.NotEqual(ours, ReferenceTokenizers.FastBertIds(word));
        // At exactly 100 characters the word is still spelled out.
        Assert.DoesNotContain(vocab.UnknownId, Ours.Value.Encode(string.Concat(Enumerable.Repeat("state", 20))).Ids);
    }

    [Fact]
    public void Disagreement_FastBertTokenizer_splits_typed_special_tokens()
    {
        // Hugging Face matches special tokens in the raw text before normalising; FastBertTokenizer
        // lowercases "[MASK]" and splits it into "[", "mask", "]".
        string text = "The state of the [MASK] is strong.";
        var vocab = Ours.Value.Vocabulary;
        int[] ours = Ours.Value.Encode(text).Ids;
        Assert.Contains(vocab.MaskId, ours);
        Assert.DoesNotContain(vocab.MaskId, ReferenceTokenizers.FastBertIds(text));
        Assert.Equal(ours, ReferenceTokenizers.MlTokenizersIds(text));
    }

    private static void AssertSameIds(IEnumerable<string> lines, Func<string, int[]> reference, string name, int minimumLines)
    {
        int compared = 0;
        foreach (string line in lines)
        {
            int[] ours = Ours.Value.Encode(line).Ids;
            int[] theirs = reference(line);
            if (!ours.AsSpan().SequenceEqual(theirs))
            {
                int at = 0;
                while (at < Math.Min(ours.Length, theirs.Length) && ours[at] == theirs[at]) at++;
                var vocab = Ours.Value.Vocabulary;
                string Around(int[] ids) => string.Join(' ', ids.Skip(Math.Max(0, at - 3)).Take(8).Select(i => vocab[i]));
                Assert.Fail($"line {compared + 1} differs from {name} at token {at}: ours [{Around(ours)}] theirs [{Around(theirs)}]\n{line[..Math.Min(200, line.Length)]}");
            }
            compared++;
        }
        Assert.True(compared >= minimumLines, $"compared only {compared} lines");
    }
}
