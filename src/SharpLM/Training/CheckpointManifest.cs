using System.Security.Cryptography;
using System.Text.Json;

namespace SharpLM.Training;

/// <summary>
/// manifest.json of a training checkpoint: the size and SHA-256 of every other file in the folder.
/// It is written last, so a folder without one was never finished; loading checks every file against
/// it, so a truncated or altered file is named before any of it is used.
/// </summary>
public sealed record CheckpointManifest(IReadOnlyList<CheckpointManifest.Entry> Files)
{
    /// <summary>The manifest's file name inside a checkpoint folder.</summary>
    public const string FileName = "manifest.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>One file: its name in the folder, its length in bytes, its SHA-256 in lowercase hex.</summary>
    public sealed record Entry(string Name, long Size, string Sha256);

    /// <summary>Hashes every file of <paramref name="folder"/> and its subfolders (an ELECTRA run's generator/), but the manifest, and writes the manifest atomically.</summary>
    public static CheckpointManifest Write(string folder)
    {
        var entries = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(name => name != FileName && !Path.GetFileName(name).StartsWith('.'))
            .Order(StringComparer.Ordinal)
            .Select(name => new Entry(name!, new FileInfo(Path.Combine(folder, name!)).Length, Hash(Path.Combine(folder, name!))))
            .ToList();
        var manifest = new CheckpointManifest(entries);
        AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(manifest, Json) + "\n");
        return manifest;
    }

    /// <summary>Checks every file the manifest of <paramref name="folder"/> lists: present, same size, same SHA-256.</summary>
    /// <exception cref="InvalidInputException">The manifest is missing or unreadable, or a file differs; the message names it.</exception>
    public static void Verify(string folder)
    {
        string path = Path.Combine(folder, FileName);
        if (!File.Exists(path))
            throw new InvalidInputException($"{folder}: the checkpoint has no {FileName}; it was never finished (or predates manifests).");
        CheckpointManifest? manifest;
        try { manifest = JsonSerializer.Deserialize<CheckpointManifest>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidInputException($"{path}: not a valid checkpoint manifest ({e.Message}).", e); }
        if (manifest?.Files is not { Count: > 0 }) throw new InvalidInputException($"{path}: the manifest lists no files.");
        foreach (var entry in manifest.Files)
        {
            string file = Path.Combine(folder, entry.Name);
            if (!File.Exists(file)) throw new InvalidInputException($"{file}: missing, though the checkpoint manifest lists it.");
            long size = new FileInfo(file).Length;
            if (size != entry.Size)
                throw new InvalidInputException($"{file}: {size:N0} bytes where the checkpoint manifest says {entry.Size:N0}; the file is truncated or damaged.");
            if (!string.Equals(Hash(file), entry.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new InvalidInputException($"{file}: its SHA-256 differs from the checkpoint manifest's; the file is damaged.");
        }
    }

    private static string Hash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }
}
