using System.Text;
using SharpLM.Text;

namespace SharpLM.Tests.Text;

public class VocabularyTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void The_real_bert_base_uncased_vocab_loads_with_CRLF_line_ends()
    {
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        Assert.Equal(30522, vocabulary.Count);
        Assert.Equal((0, 100, 101, 102, 103), (vocabulary.PadId, vocabulary.UnknownId, vocabulary.ClassifierId, vocabulary.SeparatorId, vocabulary.MaskId));
        Assert.DoesNotContain(vocabulary.Tokens, t => t.EndsWith('\r'));
    }

    [Fact]
    public void A_repeated_token_is_refused_with_both_line_numbers()
    {
        string path = _temp.Write("dup.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nof\nthe\n");
        var error = Assert.Throws<InvalidInputException>(() => Vocabulary.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("'the' appears twice (lines 5 and 7)", error.Message);
    }

    [Fact]
    public void A_vocab_without_UNK_is_refused()
    {
        string path = _temp.Write("nounk.txt", "[PAD]\n[CLS]\n[SEP]\nthe\n");
        var error = Assert.Throws<InvalidInputException>(() => Vocabulary.Load(path));
        Assert.Contains(path, error.Message);
        Assert.Contains("[UNK]", error.Message);
    }

    [Fact]
    public void Empty_missing_and_non_UTF8_vocab_files_are_refused_by_name()
    {
        Assert.Contains("empty", Assert.Throws<InvalidInputException>(() => Vocabulary.Load(_temp.Write("empty.txt", ""))).Message);
        Assert.Contains("not found", Assert.Throws<InvalidInputException>(() => Vocabulary.Load(_temp.Of("nope.txt"))).Message);
        var bad = _temp.Write("latin1.txt", [.. "[UNK]\n[CLS]\n[SEP]\ncaf"u8, 0xE9, (byte)'\n']);
        Assert.Contains("not valid UTF-8 (at byte 21)", Assert.Throws<InvalidInputException>(() => Vocabulary.Load(bad)).Message);
    }

    [Fact]
    public void Save_then_load_gives_the_same_tokens()
    {
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        string path = _temp.Of("copy", "vocab.txt");
        vocabulary.Save(path);
        Assert.Equal(vocabulary.Tokens, Vocabulary.Load(path).Tokens);
        Assert.Equal(vocabulary.Hash(), Vocabulary.Load(path).Hash());
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!)); // no temporary file left
    }
}
