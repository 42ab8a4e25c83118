using System.IO.Compression;
using System.Text;
using DuckDB.NET.Data;
using SharpLM.Data;
using SharpLM.Text;

namespace SharpLM.Tests.Data;

public class CorpusTextsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>Documents of four consecutive SOTU sentences each.</summary>
    private static List<string> Paragraphs(int count) => TestData.Lines(TestData.SotuPath)
        .SelectMany(SentenceSplitter.Split).Chunk(4).Take(count).Select(s => string.Join(' ', s)).ToList();

    private static string JsonLines(IEnumerable<string> texts) =>
        string.Concat(texts.Select(t => System.Text.Json.JsonSerializer.Serialize(new { id = 7, text = t }) + "\n"));

    /// <summary>
    /// Writes rows (id, text, score) to a Parquet file with DuckDB's own writer: row groups of 2,048 rows,
    /// dictionary-encoded strings, and a null text in every row whose id is a multiple of 7.
    /// </summary>
    private string DuckDbParquet(string name, IReadOnlyList<string> texts) => WriteDuckDbParquet(_temp.Of(name), texts);

    /// <summary>Writes <paramref name="texts"/> to <paramref name="path"/> as <see cref="DuckDbParquet"/> describes.</summary>
    internal static string WriteDuckDbParquet(string path, IReadOnlyList<string> texts)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var connection = new DuckDBConnection("Data Source=:memory:");
        connection.Open();
        using (var create = connection.CreateCommand())
        {
            create.CommandText = "CREATE TABLE docs (id BIGINT, text VARCHAR, score DOUBLE)";
            create.ExecuteNonQuery();
        }
        using (var appender = connection.CreateAppender("docs"))
            for (int i = 0; i < texts.Count; i++)
            {
                var row = appender.CreateRow().AppendValue((long)i);
                (i % 7 == 0 ? row.AppendNullValue() : row.AppendValue(texts[i])).AppendValue(i * 0.5).EndRow();
            }
        using var copy = connection.CreateCommand();
        copy.CommandText = $"COPY (SELECT * FROM docs ORDER BY id) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)";
        copy.ExecuteNonQuery();
        return path;
    }

    [Fact]
    public async Task Parquet_written_by_DuckDB_reads_row_group_by_row_group_skipping_nulls()
    {
        // 2,100 paragraphs, each repeated three times so the column has repeats to dictionary-encode.
        var paragraphs = Paragraphs(700);
        var texts = Enumerable.Range(0, 6000).Select(i => paragraphs[i % paragraphs.Count]).ToList();
        string path = DuckDbParquet("docs.parquet", texts);
        await using (var parquet = await Parquet.ParquetReader.CreateAsync(path))
            Assert.Equal(3, parquet.RowGroupCount);
        var reader = new CorpusTexts();
        var read = reader.Read([path]).ToList();
        Assert.Equal(texts.Where((_, i) => i % 7 != 0), read.Select(r => r.Text));
        Assert.Equal(Enumerable.Range(0, 6000).Count(i => i % 7 == 0), reader.NullRecords);
        Assert.Equal(2, read[0].Position); // row 1 is null
        Assert.All(read, r => Assert.Equal(path, r.File));
    }

    [Fact]
    public void A_missing_column_and_a_column_that_is_not_text_are_refused_by_name()
    {
        string path = DuckDbParquet("docs.parquet", Paragraphs(20));
        var missing = Assert.Throws<InvalidInputException>(() => new CorpusTexts("content").Read([path]).ToList());
        Assert.Equal($"{path}: no column \"content\"; its columns are \"id\", \"text\", \"score\" (choose one with --text-field).", missing.Message);
        var numbers = Assert.Throws<InvalidInputException>(() => new CorpusTexts("score").Read([path]).ToList());
        Assert.Equal($"{path}: column \"score\" holds Double, not strings (choose a text column with --text-field).", numbers.Message);
    }

    [Fact]
    public void A_truncated_or_garbage_Parquet_file_is_refused_by_name()
    {
        byte[] good = File.ReadAllBytes(DuckDbParquet("docs.parquet", Paragraphs(100)));
        string truncated = _temp.Write("truncated.parquet", good[..(good.Length * 2 / 3)]);
        Assert.StartsWith($"{truncated}: not a readable Parquet file", Assert.Throws<InvalidInputException>(() => new CorpusTexts().Read([truncated]).ToList()).Message);
        string text = _temp.Write("text.parquet", "just some text, not parquet at all\n");
        Assert.StartsWith($"{text}: not a readable Parquet file", Assert.Throws<InvalidInputException>(() => new CorpusTexts().Read([text]).ToList()).Message);
    }

    [Theory]
    [InlineData(".jsonl.gz")]
    [InlineData(".jsonl.zst")]
    [InlineData(".txt.gz")]
    [InlineData(".txt.zst")]
    public void Compressed_files_read_as_their_plain_form(string extension)
    {
        var paragraphs = Paragraphs(300);
        string plain = extension.StartsWith(".jsonl") ? JsonLines(paragraphs) : string.Join("\n\n", paragraphs) + "\n";
        string path = _temp.Write("corpus" + extension, Compress(Encoding.UTF8.GetBytes(plain), extension));
        Assert.Equal(paragraphs, new CorpusTexts().Read([path]).Select(r => r.Text));
    }

    [Theory]
    [InlineData(".jsonl.gz", "gzip data ends after")]
    [InlineData(".txt.zst", "the Zstandard data is corrupt or truncated")]
    public void A_truncated_compressed_file_is_refused_by_name(string extension, string problem)
    {
        byte[] whole = Compress(Encoding.UTF8.GetBytes(JsonLines(Paragraphs(300))), extension);
        string path = _temp.Write("cut" + extension, whole[..(whole.Length / 2)]);
        var error = Assert.Throws<InvalidInputException>(() => new CorpusTexts().Read([path]).ToList());
        Assert.StartsWith($"{path}: ", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void A_folder_mixing_formats_reads_every_file_in_name_order_and_JSON_nulls_are_skipped()
    {
        var p = Paragraphs(40);
        _temp.Write("mix/a.txt", string.Join("\n\n", p[..10]) + "\n");
        _temp.Write("mix/b.jsonl.zst", Compress(Encoding.UTF8.GetBytes(JsonLines(p[10..20]) + "{\"text\": null}\n"), ".zst"));
        DuckDbParquet("mix/c.parquet", p[20..40]);
        var reader = new CorpusTexts();
        var read = reader.Read([_temp.Of("mix")]).Select(r => r.Text).ToList();
        Assert.Equal(p[..20].Concat(p[20..40].Where((_, i) => i % 7 != 0)), read);
        Assert.Equal(1 + 3, reader.NullRecords);
    }

    [Fact]
    public void Data_prepared_from_Parquet_equals_data_prepared_from_the_same_documents_as_text()
    {
        var paragraphs = Paragraphs(140).Where((_, i) => i % 7 != 0).ToList();
        string text = _temp.Write("corpus.txt", string.Join("\n\n", paragraphs) + "\n");
        string parquet = DuckDbParquet("corpus.parquet", Paragraphs(140));
        var tokenizer = BertTokenizer.Load(TestData.BertBaseUncasedVocab);
        var options = new PretrainingDataOptions(MaxSeqLength: 64, DupeFactor: 1, ValidationFraction: 0.1);
        var fromText = new PretrainingDataWriter(tokenizer, options).Write([text], _temp.Of("from-text"));
        var fromParquet = new PretrainingDataWriter(tokenizer, options).Write([parquet], _temp.Of("from-parquet"));
        Assert.Equal(fromText.TrainExamples, fromParquet.TrainExamples);
        Assert.True(fromText.TrainExamples > 100);
        foreach (var shard in fromText.Shards)
            Assert.Equal(File.ReadAllBytes(_temp.Of("from-text", shard.File)), File.ReadAllBytes(_temp.Of("from-parquet", shard.File)));
    }

    /// <summary><paramref name="bytes"/> gzip-compressed for a name ending in .gz, else Zstandard-compressed.</summary>
    internal static byte[] Compress(byte[] bytes, string extension)
    {
        using var output = new MemoryStream();
        using (Stream compressor = extension.EndsWith(".gz") ? new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true) : new ZstdSharp.CompressionStream(output, leaveOpen: true))
            compressor.Write(bytes);
        return output.ToArray();
    }
}
