using System.Text;
using SharpLM.Data;

namespace SharpLM.Tests.Data;

public class TextFileLinesTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Lines_end_at_LF_or_CRLF_and_a_byte_order_mark_is_skipped()
    {
        string path = _temp.Write("a.txt", [0xEF, 0xBB, 0xBF, .. "one\r\ntwo\n\nthree"u8]);
        Assert.Equal(new[] { "one", "two", "", "three" }, TextFileLines.Read(path));
    }

    [Fact]
    public void Multibyte_characters_that_straddle_read_blocks_decode_whole()
    {
        // 65,535 ASCII bytes put the 3-byte "月" across the 64 KiB block boundary.
        string text = new string('a', 65535) + "月光\n" + string.Concat(Enumerable.Repeat("床前明月光\n", 20000));
        string path = _temp.Write("big.txt", Encoding.UTF8.GetBytes(text));
        var lines = TextFileLines.Read(path).ToList();
        Assert.Equal(new string('a', 65535) + "月光", lines[0]);
        Assert.Equal(20001, lines.Count);
        Assert.All(lines.Skip(1), l => Assert.Equal("床前明月光", l));
    }

    [Fact]
    public void Invalid_UTF8_is_refused_with_the_file_the_byte_offset_and_the_line()
    {
        string path = _temp.Write("latin1.txt", [.. "good line\nna"u8, 0xEF, (byte)'v', (byte)'e', (byte)'\n']);
        var error = Assert.Throws<InvalidInputException>(() => TextFileLines.Read(path).ToList());
        Assert.Equal($"{path}: invalid UTF-8 at byte 12 (line 2); convert the file to UTF-8.", error.Message);
    }

    [Fact]
    public void A_binary_file_is_refused()
    {
        string path = _temp.Write("blob.bin", [0x7F, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, 0, 0]);
        Assert.Contains("binary", Assert.Throws<InvalidInputException>(() => TextFileLines.Read(path).ToList()).Message);
    }

    [Fact]
    public void A_line_over_the_limit_is_refused_without_reading_it_whole()
    {
        string path = _temp.Write("long.txt", Encoding.UTF8.GetBytes("short\n" + new string('x', 5000)));
        var error = Assert.Throws<InvalidInputException>(() => TextFileLines.Read(path, maxLineLength: 1000).ToList());
        Assert.Equal($"{path}: line 2 is longer than 1,000 characters; split it into sentences or paragraphs.", error.Message);
    }

    [Fact]
    public void Folders_expand_in_a_fixed_order_skipping_hidden_and_empty_files()
    {
        Directory.CreateDirectory(_temp.Of("corpus", "b"));
        File.WriteAllText(_temp.Of("corpus", "b", "2.txt"), "two");
        File.WriteAllText(_temp.Of("corpus", "1.txt"), "one");
        File.WriteAllText(_temp.Of("corpus", ".hidden"), "no");
        File.WriteAllText(_temp.Of("corpus", "empty.txt"), "");
        Assert.Equal(new[] { "one", "two" }, new CorpusTexts().ReadLines([_temp.Of("corpus")]));
        Assert.Contains("no such file or folder", Assert.Throws<InvalidInputException>(() => CorpusFiles.Expand([_temp.Of("nope")])).Message);
        Assert.Contains("the file is empty", Assert.Throws<InvalidInputException>(() => CorpusFiles.Expand([_temp.Of("corpus", "empty.txt")])).Message);
        Directory.CreateDirectory(_temp.Of("void"));
        Assert.Contains("no non-empty text file", Assert.Throws<InvalidInputException>(() => CorpusFiles.Expand([_temp.Of("void")])).Message);
    }
}
