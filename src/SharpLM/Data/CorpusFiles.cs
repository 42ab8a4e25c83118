namespace SharpLM.Data;

/// <summary>
/// Turns the paths a user gives (files and folders) into the list of text files to read: folders are
/// walked recursively in a fixed order (ordinal by path) so that every run sees the same sequence.
/// Inside a folder, <c>.json</c> files are skipped: they are reports, manifests and configs (such as
/// the report.json that <c>data clean</c> leaves beside its shards), never corpus text.
/// </summary>
public static class CorpusFiles
{
    /// <summary>
    /// Expands <paramref name="paths"/>. A file named directly must exist and not be empty; inside a
    /// folder, hidden and empty files are skipped.
    /// </summary>
    /// <exception cref="InvalidInputException">A path does not exist, a named file is empty, or no text file is found at all.</exception>
    public static IReadOnlyList<string> Expand(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (string path in paths)
        {
            if (File.Exists(path))
            {
                if (new FileInfo(path).Length == 0) throw new InvalidInputException($"{path}: the file is empty.");
                files.Add(path);
            }
            else if (Directory.Exists(path))
            {
                var found = Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden })
                    .Where(f => !Path.GetFileName(f).StartsWith('.') && !f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) && new FileInfo(f).Length > 0)
                    .Order(StringComparer.Ordinal)
                    .ToList();
                if (found.Count == 0) throw new InvalidInputException($"{path}: the folder holds no non-empty text file.");
                files.AddRange(found);
            }
            else throw new InvalidInputException($"{path}: no such file or folder.");
        }
        if (files.Count == 0) throw new InvalidInputException("no input given: name at least one text file or folder.");
        return files;
    }

    /// <summary>
    /// Lines of one input file given with --input: a folder, a missing file and an empty file are
    /// refused by name before any output is written.
    /// </summary>
    public static IEnumerable<string> ReadSingleFile(string path, string verb)
    {
        if (Directory.Exists(path)) throw new InvalidInputException($"{path}: is a folder; {verb} --input takes one text file.");
        return TextFileLines.Read(Expand([path]).Single());
    }
}
