namespace SharpLM.Tests.Cli;

public class TokenizeCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void One_line_of_ids_per_input_line_with_CLS_first_and_SEP_last()
    {
        string input = _temp.Of("in.txt");
        File.WriteAllText(input, "Hello, world!\nThe state of the Union.\n");
        var run = CliRun.Of("tokenize", "--vocab", TestData.BertBaseUncasedVocab, "--input", input);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("101 7592 1010 2088 999 102\n101 1996 2110 1997 1996 2586 1012 102\n", run.Output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Tokens_pairs_and_max_length()
    {
        string input = _temp.Of("pairs.tsv");
        File.WriteAllText(input, "Is it raining?\tNo, it is sunny today.\n");
        var run = CliRun.Of("tokenize", "--vocab", TestData.BertBaseUncasedVocab, "--pair", "--tokens", "--max-length", "9", "--input", input);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("[CLS] is it raining [SEP] no , it [SEP]\n", run.Output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void A_byte_level_BPE_tokenizes_without_special_tokens_and_decodes_back()
    {
        string tokenizer = _temp.Of("bpe", "tokenizer.json");
        Assert.Equal(0, CliRun.Of("vocab", "train", "--type", "bpe", "--input", TestData.SotuPath, "--vocab-size", "1000", "--output", tokenizer).ExitCode);
        var tokens = CliRun.Of("tokenize", "--tokenizer", tokenizer, "--tokens", "The Congress, 1961.");
        Assert.True(tokens.ExitCode == 0, tokens.Error);
        // GPT-2's split: a space joins the word after it ('Ġ'), punctuation stands apart; the tokens spell the text.
        string[] pieces = tokens.Output.Trim().Split(' ');
        Assert.Contains(",", pieces);
        Assert.Contains(pieces, p => p.StartsWith("ĠCon", StringComparison.Ordinal));
        Assert.Equal("The Congress, 1961.", string.Concat(pieces).Replace('Ġ', ' '));
        var ids = CliRun.Of("tokenize", "--tokenizer", tokenizer, "--max-length", "2", "The Congress, 1961.");
        var bpe = SharpLM.Interop.ByteLevelBpeFiles.Load(tokenizer);
        Assert.Equal(string.Join(' ', bpe.Encode("The Congress, 1961.").Take(2)) + "\n", ids.Output.ReplaceLineEndings("\n"));
        CliRun.Of("tokenize", "--tokenizer", tokenizer, "--pair", "a\tb").AssertFailsNaming("--pair", "byte-level BPE encodes the text as it is");
    }

    [Fact]
    public void Vocab_train_writes_a_vocab_that_tokenize_uses()
    {
        string vocab = _temp.Of("vocab.txt");
        var train = CliRun.Of("vocab", "train", "--input", TestData.SotuPath, "--vocab-size", "2000", "--output", vocab);
        Assert.Equal(0, train.ExitCode);
        Assert.Equal(2000, File.ReadAllLines(vocab).Length);
        var run = CliRun.Of("tokenize", "--vocab", vocab, "--tokens", "The Congress");
        Assert.Equal("[CLS] the congress [SEP]\n", run.Output.ReplaceLineEndings("\n"));
    }

    [Fact]
    public void Quickstart_trains_on_the_embedded_corpus_and_tokenizes_a_sample()
    {
        var run = CliRun.Of("quickstart", "--output", _temp.Of("run"), "--vocab-size", "9000");
        Assert.Equal(0, run.ExitCode);
        Assert.True(File.Exists(_temp.Of("run", "corpus", "sotu-1961-2018.txt")));
        Assert.Equal(9000, File.ReadAllLines(_temp.Of("run", "vocab.txt")).Length);
        Assert.Contains("tokens: [CLS] the state of our union is strong", run.Output);
        Assert.Contains("tokens: [CLS] 床 前 明 月 光", run.Output);
    }

    [Fact]
    public void A_wrong_command_line_exits_with_2()
    {
        Assert.Equal(2, CliRun.Of("tokenize", "--no-such-option").ExitCode);
    }
}
