using System.Text;
using System.Text.Json;
using SharpLM.Data;
using SharpLM.Tests.Data.Cleaning;

namespace SharpLM.Tests.Cli;

public class DataCleanCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string JsonLines(IEnumerable<string> texts) => CorpusCleanerTests.JsonLines(texts);

    private static byte[] Zstd(string text) => SharpLM.Tests.Data.CorpusTextsTests.Compress(Encoding.UTF8.GetBytes(text), ".zst");

    /// <summary>
    /// A folder of 200 real pages in .jsonl.zst and as plain text, with an exact copy (other case and
    /// punctuation), a near copy (a few words swapped) and a lorem-ipsum page among them.
    /// </summary>
    private (string Folder, List<string> Pages) Corpus()
    {
        var pages = CorpusCleanerTests.Pages().Take(200).ToList();
        string exact = pages[3].ToUpperInvariant().Replace(",", "");
        var words = pages[5].Split(' ');
        (words[10], words[60]) = (words[60], words[10]);
        string near = string.Join(' ', words);
        string lorem = pages[7] + " Lorem ipsum dolor sit amet.";
        _temp.Write("corpus/a.jsonl.zst", Zstd(JsonLines(pages.Take(100).Append(exact).Append(lorem))));
        _temp.Write("corpus/b.txt", string.Join("\n\n", pages.Skip(100).Append(near)) + "\n");
        return (_temp.Of("corpus"), pages);
    }

    [Fact]
    public void Clean_removes_duplicates_and_boilerplate_writes_shards_data_prepare_reads_and_a_matching_report()
    {
        var (corpus, pages) = Corpus();
        var run = CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("clean"));
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("kept 200 of 203 documents", run.Output);
        var kept = new CorpusTexts().Read([_temp.Of("clean")]).Select(t => t.Text).ToList();
        Assert.Equal(pages, kept);

        using var report = JsonDocument.Parse(File.ReadAllText(_temp.Of("clean", "report.json")));
        var root = report.RootElement;
        Assert.Equal(203, root.GetProperty("documents_in").GetInt64());
        Assert.Equal(200, root.GetProperty("documents_out").GetInt64());
        var removed = root.GetProperty("removed");
        Assert.Equal(1, removed.GetProperty("exact-duplicate").GetProperty("documents").GetInt64());
        Assert.Equal(1, removed.GetProperty("c4.lorem-ipsum").GetProperty("documents").GetInt64());
        var near = removed.GetProperty("near-duplicate");
        Assert.Equal(1, near.GetProperty("documents").GetInt64());
        Assert.EndsWith("a.jsonl.zst:6", near.GetProperty("examples")[0].GetProperty("kept_source").GetString());
        Assert.Equal(["part-00000.jsonl"], root.GetProperty("shards").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(Encoding.UTF8.GetByteCount(string.Concat(pages)), root.GetProperty("bytes_out").GetInt64());

        var prepare = CliRun.Of("data", "prepare", "--corpus", _temp.Of("clean"), "--vocab", TestData.BertBaseUncasedVocab, "--output", _temp.Of("data"), "--dupe-factor", "1", "--max-seq-length", "64");
        Assert.True(prepare.ExitCode == 0, prepare.Error);
    }

    [Fact]
    public void A_file_named_twice_is_read_twice_and_its_second_reading_is_all_exact_duplicates()
    {
        string file = _temp.Write("pages.jsonl", JsonLines(CorpusCleanerTests.Pages().Take(50)));
        var run = CliRun.Of("data", "clean", "--input", file, file, "--output", _temp.Of("clean"), "--filters", "none");
        Assert.True(run.ExitCode == 0, run.Error);
        Assert.Contains("kept 50 of 100 documents", run.Output);
        Assert.Contains("exact-duplicate 50", run.Output);
    }

    [Fact]
    public void Parquet_output_holds_what_JSON_Lines_output_holds_and_DuckDB_reads_it()
    {
        var (corpus, pages) = Corpus();
        Assert.Equal(0, CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("jsonl")).ExitCode);
        var run = CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("parquet"), "--format", "parquet");
        Assert.True(run.ExitCode == 0, run.Error);
        string shard = _temp.Of("parquet", "part-00000.parquet");
        Assert.Equal(pages, new CorpusTexts().Read([shard]).Select(t => t.Text));
        Assert.Equal(new CorpusTexts().Read([_temp.Of("jsonl")]).Select(t => t.Text), new CorpusTexts().Read([_temp.Of("parquet")]).Select(t => t.Text));
        using var connection = new DuckDB.NET.Data.DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using var query = connection.CreateCommand();
        query.CommandText = $"SELECT text FROM read_parquet('{shard}')";
        var read = new List<string>();
        using (var reader = query.ExecuteReader())
            while (reader.Read()) read.Add(reader.GetString(0));
        Assert.Equal(pages, read);
    }

    [Fact]
    public void One_thread_and_two_give_the_same_shards()
    {
        var (corpus, _) = Corpus();
        Assert.Equal(0, CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("one"), "--threads", "1").ExitCode);
        Assert.Equal(0, CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("two"), "--threads", "2").ExitCode);
        Assert.Equal(File.ReadAllBytes(_temp.Of("one", "part-00000.jsonl")), File.ReadAllBytes(_temp.Of("two", "part-00000.jsonl")));
    }

    [Fact]
    public void A_truncated_gzip_file_fails_naming_it_and_leaves_no_output()
    {
        var (corpus, pages) = Corpus();
        byte[] gz = SharpLM.Tests.Data.CorpusTextsTests.Compress(Encoding.UTF8.GetBytes(JsonLines(pages)), ".gz");
        string cut = _temp.Write("corpus/c.jsonl.gz", gz[..(gz.Length * 3 / 4)]);
        CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("clean")).AssertFailsNaming(cut, "truncated or corrupt");
        Assert.False(Directory.Exists(_temp.Of("clean")));
    }

    [Theory]
    [InlineData("missing-column")]
    [InlineData("number-column")]
    [InlineData("corrupt-parquet")]
    [InlineData("truncated-zst")]
    public void Bad_input_fails_with_one_line_naming_the_file_and_leaves_no_output(string kind)
    {
        var (corpus, pages) = Corpus();
        string parquet = SharpLM.Tests.Data.CorpusTextsTests.WriteDuckDbParquet(_temp.Of("corpus", "c.parquet"), pages);
        string[] extra = [];
        string bad = parquet, input = corpus, problem;
        switch (kind)
        {
            // The other files have no such field either: the Parquet file alone.
            case "missing-column": (input, extra, problem) = (parquet, ["--text-field", "body"], "no column \"body\""); break;
            case "number-column": (input, extra, problem) = (parquet, ["--text-field", "score"], "column \"score\" holds Double, not strings"); break;
            case "corrupt-parquet":
                byte[] whole = File.ReadAllBytes(parquet);
                File.WriteAllBytes(parquet, whole[..(whole.Length / 2)]);
                problem = "not a readable Parquet file";
                break;
            default:
                File.Delete(parquet);
                byte[] zst = Zstd(JsonLines(pages));
                bad = _temp.Write("corpus/c.jsonl.zst", zst[..(zst.Length / 2)]);
                problem = "the Zstandard data is corrupt or truncated";
                break;
        }
        // In the folder, the JSON Lines and text files come first: the failure comes after other files were read.
        CliRun.Of(["data", "clean", "--input", input, "--output", _temp.Of("clean"), .. extra]).AssertFailsNaming(bad, problem);
        Assert.False(Directory.Exists(_temp.Of("clean")));
    }

    [Fact]
    public void A_failure_after_documents_were_written_removes_the_unfinished_shards()
    {
        // 5,000 sentences kept as they are (no rule, no deduplication): two batches reach the shard before the bad file.
        var sentences = TestData.Lines(TestData.SotuPath).SelectMany(SentenceSplitter.Split).Take(5000).ToList();
        _temp.Write("corpus/a.jsonl", JsonLines(sentences));
        byte[] zst = Zstd(JsonLines(sentences));
        string bad = _temp.Write("corpus/b.jsonl.zst", zst[..(zst.Length / 2)]);
        var run = CliRun.Of("data", "clean", "--input", _temp.Of("corpus"), "--output", _temp.Of("clean"), "--filters", "none", "--dedup", "none");
        run.AssertFailsNaming(bad, "truncated");
        Assert.False(Directory.Exists(_temp.Of("clean")));
    }

    [Fact]
    public void A_folder_that_is_not_empty_and_unknown_filters_are_refused_before_any_work()
    {
        var (corpus, _) = Corpus();
        string busy = _temp.Write("busy/notes.txt", "mine");
        CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("busy")).AssertFailsNaming(_temp.Of("busy"), "exists and is not empty");
        Assert.Equal("mine", File.ReadAllText(busy));
        var bad = CliRun.Of("data", "clean", "--input", corpus, "--output", _temp.Of("clean"), "--filters", "gopher,c5");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("\"c5\" is neither gopher, c4, none nor a rule", bad.Error);
        Assert.False(Directory.Exists(_temp.Of("clean")));
    }
}
