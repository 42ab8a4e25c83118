using System.Text;

namespace SharpLM.Tests.Cli;

/// <summary>
/// Each bad input gets one clear message naming the file and the problem, exit code 1, no stack
/// trace, and leaves no output file behind (an existing one is left as it was).
/// </summary>
public class BadInputTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private void AssertVocabTrainFails(string input, string problem)
    {
        string output = _temp.Of("out/vocab.txt");
        Directory.CreateDirectory(_temp.Of("out"));
        File.WriteAllText(output, "previous run\n");
        var run = CliRun.Of("vocab", "train", "--input", input, "--vocab-size", "100", "--output", output);
        run.AssertFailsNaming(input, problem);
        Assert.Equal("previous run\n", File.ReadAllText(output));
        Assert.Single(Directory.GetFiles(_temp.Of("out")));
    }

    [Fact]
    public void Missing_path() => AssertVocabTrainFails(_temp.Of("nope.txt"), "no such file or folder");

    [Fact]
    public void Folder_with_no_text() { Directory.CreateDirectory(_temp.Of("void")); AssertVocabTrainFails(_temp.Of("void"), "no non-empty text file"); }

    [Fact]
    public void Empty_file() => AssertVocabTrainFails(_temp.Write("empty.txt", ""), "the file is empty");

    [Fact]
    public void Invalid_UTF8() => AssertVocabTrainFails(_temp.Write("latin1.txt", [.. "caf"u8, 0xE9, (byte)'\n']), "invalid UTF-8 at byte 3 (line 1)");

    [Fact]
    public void Binary_file() => AssertVocabTrainFails(_temp.Write("blob.bin", [0x7F, 0x45, 0x4C, 0x46, 0, 0, 1, 2]), "looks like a binary file");

    [Fact]
    public void Fifty_megabyte_single_line()
    {
        string path = _temp.Of("huge.txt");
        using (var file = File.Create(path))
        {
            var block = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("word ", 200_000)));
            for (int written = 0; written < 50_000_000; written += block.Length) file.Write(block);
        }
        AssertVocabTrainFails(path, "line 1 is longer than 1,048,576 characters");
    }

    [Fact]
    public void Vocab_with_duplicates_or_without_UNK_is_refused_by_tokenize()
    {
        string duplicated = _temp.Write("dup.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\nthe\nthe\n");
        CliRun.Of("tokenize", "--vocab", duplicated, "the").AssertFailsNaming(duplicated, "'the' appears twice (lines 5 and 6)");
        string noUnk = _temp.Write("nounk.txt", "[PAD]\n[CLS]\n[SEP]\nthe\n");
        CliRun.Of("tokenize", "--vocab", noUnk, "the").AssertFailsNaming(noUnk, "no [UNK] token");
    }

    [Fact]
    public void Tokenize_refuses_a_missing_or_empty_input_file_or_a_folder()
    {
        string vocab = _temp.Write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ngood\n");
        string empty = _temp.Write("empty.txt", "");
        CliRun.Of("tokenize", "--vocab", vocab, "--input", empty).AssertFailsNaming(empty, "the file is empty");
        CliRun.Of("tokenize", "--vocab", vocab, "--input", _temp.Of("nope.txt")).AssertFailsNaming(_temp.Of("nope.txt"), "no such file or folder");
        CliRun.Of("tokenize", "--vocab", vocab, "--input", _temp.Path).AssertFailsNaming(_temp.Path, "is a folder");
    }

    [Fact]
    public void Tokenize_leaves_no_partial_output_when_the_input_breaks_halfway()
    {
        string vocab = _temp.Write("vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\ngood\n");
        string input = _temp.Write("input.txt", [.. "good\ngood\n"u8, 0xFF, (byte)'\n']);
        string output = _temp.Of("ids.txt");
        CliRun.Of("tokenize", "--vocab", vocab, "--input", input, "--output", output).AssertFailsNaming(input, "invalid UTF-8 at byte 10 (line 3)");
        Assert.Empty(Directory.GetFiles(_temp.Path, "*ids*"));
        Assert.Empty(Directory.GetFiles(_temp.Path, ".*"));
    }
}
