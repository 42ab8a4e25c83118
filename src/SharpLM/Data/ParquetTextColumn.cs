using Parquet;
using Parquet.Schema;

namespace SharpLM.Data;

/// <summary>
/// Reads one string column of a Parquet file (the layout of every Hugging Face dataset), one row group
/// at a time, so that memory holds a row group's column and never the file. Null rows are skipped and
/// counted. Any failure inside the Parquet reader becomes an <see cref="InvalidInputException"/> naming
/// the file (and the row group where it happened).
/// </summary>
public static class ParquetTextColumn
{
    /// <summary>The non-null values of column <paramref name="column"/> of <paramref name="path"/>, in row order.</summary>
    /// <param name="path">The Parquet file.</param>
    /// <param name="column">A top-level column of strings (Parquet BYTE_ARRAY with the STRING logical type).</param>
    /// <param name="nulls">Called once per null row skipped.</param>
    /// <param name="rowGroup">Called with (row group, row groups) as each row group starts.</param>
    /// <exception cref="InvalidInputException">The file is not Parquet or is corrupt, the column is missing, or it does not hold strings.</exception>
    public static IEnumerable<string> Read(string path, string column, Action? nulls = null, Action<int, int>? rowGroup = null)
    {
        var reader = Open(path);
        return ReadRows(reader, Field(reader, path, column), path, nulls, rowGroup);
    }

    private static ParquetReader Open(string path)
    {
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            try
            {
                return ParquetReader.CreateAsync(stream, leaveStreamOpen: false).GetAwaiter().GetResult();
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is not InvalidInputException)
        {
            throw new InvalidInputException($"{path}: not a readable Parquet file ({e.Message}).", e);
        }
    }

    private static DataField Field(ParquetReader reader, string path, string column)
    {
        var fields = reader.Schema.GetDataFields();
        var field = fields.FirstOrDefault(f => f.Path.ToString() == column);
        if (field is null)
        {
            Close(reader);
            throw new InvalidInputException($"{path}: no column \"{column}\"; its columns are {string.Join(", ", fields.Select(f => $"\"{f.Path}\""))} (choose one with --text-field).");
        }
        if (field.IsArray || (field.ClrType != typeof(string) && field.ClrType != typeof(ReadOnlyMemory<char>)))
        {
            Close(reader);
            string kind = field.IsArray ? $"a list of {field.ClrType.Name}" : field.ClrType.Name;
            throw new InvalidInputException($"{path}: column \"{column}\" holds {kind}, not strings (choose a text column with --text-field).");
        }
        return field;
    }

    private static IEnumerable<string> ReadRows(ParquetReader reader, DataField field, string path, Action? nulls, Action<int, int>? rowGroup)
    {
        try
        {
            for (int group = 0; group < reader.RowGroupCount; group++)
            {
                rowGroup?.Invoke(group, reader.RowGroupCount);
                foreach (string? value in RowGroup(reader, field, path, group))
                {
                    if (value is null) nulls?.Invoke();
                    else yield return value;
                }
            }
        }
        finally
        {
            Close(reader);
        }
    }

    private static string?[] RowGroup(ParquetReader reader, DataField field, string path, int group)
    {
        try
        {
            using var rows = reader.OpenRowGroupReader(group);
            var values = new string?[checked((int)rows.RowCount)];
            rows.ReadAsync(field, values.AsMemory()!, null).GetAwaiter().GetResult();
            return values;
        }
        catch (Exception e)
        {
            throw new InvalidInputException($"{path}: row group {group + 1} of {reader.RowGroupCount} cannot be read ({e.Message}); the file is corrupt or truncated.", e);
        }
    }

    // The reader (and the file under it) is only IAsyncDisposable; corpus reading is synchronous.
    private static void Close(ParquetReader reader) => reader.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
