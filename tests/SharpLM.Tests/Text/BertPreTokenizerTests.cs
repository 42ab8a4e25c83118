using SharpLM.Text;

namespace SharpLM.Tests.Text;

public class BertPreTokenizerTests
{
    private static List<(string Word, int Start, int End)> Words(string text, bool lowercase = true)
    {
        var pre = new BertPreTokenizer(lowercase, lowercase);
        var output = new PreTokenizedText();
        pre.Split(text, output);
        var words = new List<(string, int, int)>();
        for (int w = 0; w < output.Count; w++)
        {
            int n = output.Word(w).Length;
            words.Add((output.Word(w).ToString(), output.OriginalStart(w, 0), output.OriginalEnd(w, n - 1)));
        }
        return words;
    }

    [Fact]
    public void Lowercasing_and_accent_stripping_keep_offsets_into_the_original_text()
    {
        // "Ça" and "ÉTÉ": each accented capital becomes one plain lowercase letter; the combining acute
        // accent in "e\u0301" is dropped and "e" keeps its own offset.
        var words = Words("Ça va, ÉTÉ e\u0301t\u00E9!");
        Assert.Equal(new[] { ("ca", 0, 2), ("va", 3, 5), (",", 5, 6), ("ete", 7, 10), ("ete", 11, 15), ("!", 15, 16) }, words);
    }

    [Fact]
    public void Dotted_capital_I_lowercases_as_Python_does()
    {
        // Python: "İ".lower() is "i" + U+0307, and accent stripping drops U+0307. .NET's ToLowerInvariant keeps "İ".
        Assert.Equal("istanbul", Words("İstanbul").Single().Word);
        Assert.Equal("İstanbul", Words("İstanbul", lowercase: false).Single().Word);
    }

    [Fact]
    public void Control_characters_NUL_and_replacement_characters_vanish_without_splitting_the_word()
    {
        Assert.Equal(new[] { ("ab", 0, 5) }, Words("a\u0000\u200B\uFFFDb"));
        Assert.Equal(new[] { "a", "b" }, Words("a\u00A0b\u3000").Select(w => w.Word));
    }

    [Fact]
    public void Every_CJK_ideograph_and_punctuation_character_is_a_word_of_its_own()
    {
        Assert.Equal(new[] { "床", "前", "明", "月", "光", "，", "ok", "。", "\U00027944", "x" },
            Words("床前明月光，ok。\U00027944x").Select(w => w.Word));
        Assert.Equal(new[] { "$", "5", "+", "3", "^", "2", "`", "~" }, Words("$5+3^2`~").Select(w => w.Word));
    }

    [Fact]
    public void Typed_special_tokens_stay_whole_and_are_not_lowercased()
    {
        var pre = new BertPreTokenizer(true, true, new Dictionary<string, int> { ["[MASK]"] = 103 });
        var output = new PreTokenizedText();
        pre.Split("The [MASK] and [mask]", output);
        var ids = Enumerable.Range(0, output.Count).Select(output.SpecialTokenId).ToArray();
        Assert.Equal(new[] { -1, 103, -1, -1, -1, -1 }, ids);
        Assert.Equal("mask", output.Word(4).ToString());
    }

    [Fact]
    public void Lone_surrogates_are_dropped_and_never_throw()
    {
        Assert.Equal(new[] { "ab" }, Words("a\uD800b\uDC00").Select(w => w.Word));
    }
}
