using System.Text.Json;

namespace SharpLM.Data.Cleaning;

/// <summary>
/// What a stopped <c>data clean</c> needs to continue (<c>--resume</c>): how many documents were decided,
/// the report so far, the exact fingerprints, the near-duplicate index, where each kept document was read,
/// and the shards finished. It is taken when a shard is finished (at most every few minutes), kept in
/// <c>OUTPUT/.clean-state/</c>, and written as pretraining checkpoints are: into a new folder, then the
/// <c>latest</c> pointer is replaced, so a kill at any moment leaves the previous checkpoint whole.
/// </summary>
internal sealed class CleaningCheckpoint
{
    /// <summary>The hidden folder in the output that holds the checkpoints.</summary>
    public const string FolderName = ".clean-state";

    /// <summary>Inputs, their sizes and the options that change the output: a checkpoint is only resumed with the same.</summary>
    public required string Identity { get; init; }

    /// <summary>Documents decided so far, in corpus order.</summary>
    public required long Position { get; init; }

    /// <summary>Shards finished so far.</summary>
    public required List<string> Shards { get; init; }

    /// <summary>Wall-clock seconds of the sessions so far.</summary>
    public required double Seconds { get; init; }

    /// <summary>The report so far.</summary>
    public required string Report { get; init; }

    /// <summary>Writes a checkpoint of the given state into <paramref name="output"/>.</summary>
    public static void Save(string output, CleaningCheckpoint state, HashSet<UInt128> exact, List<(int File, long Position)> kept, LshIndex? index)
    {
        string root = Path.Combine(output, FolderName);
        string name = $"at-{state.Position:D12}";
        string folder = Path.Combine(root, name);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        Directory.CreateDirectory(folder);
        using (var writer = new BinaryWriter(new FileStream(Path.Combine(folder, "state.bin"), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20)))
        {
            writer.Write(exact.Count);
            foreach (var fingerprint in exact)
            {
                writer.Write((ulong)(fingerprint >> 64));
                writer.Write((ulong)fingerprint);
            }
            writer.Write(kept.Count);
            foreach (var (file, position) in kept)
            {
                writer.Write(file);
                writer.Write(position);
            }
            writer.Write(index is not null);
            index?.Save(writer);
            writer.Flush();
            ((FileStream)writer.BaseStream).Flush(flushToDisk: true);
        }
        AtomicFile.WriteAllText(Path.Combine(folder, "checkpoint.json"), JsonSerializer.Serialize(state));
        AtomicFile.WriteAllText(Path.Combine(root, "latest"), name);
        foreach (string old in Directory.EnumerateDirectories(root))
            if (Path.GetFileName(old) != name) Directory.Delete(old, recursive: true);
    }

    /// <summary>The latest checkpoint in <paramref name="output"/>, or null when there is none.</summary>
    public static CleaningCheckpoint? Load(string output, HashSet<UInt128> exact, List<(int File, long Position)> kept, LshIndex? index)
    {
        string root = Path.Combine(output, FolderName);
        string latest = Path.Combine(root, "latest");
        if (!File.Exists(latest)) return null;
        string folder = Path.Combine(root, File.ReadAllText(latest).Trim());
        try
        {
            var state = JsonSerializer.Deserialize<CleaningCheckpoint>(File.ReadAllText(Path.Combine(folder, "checkpoint.json")))!;
            using var reader = new BinaryReader(new FileStream(Path.Combine(folder, "state.bin"), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20));
            for (int i = reader.ReadInt32(); i > 0; i--) exact.Add(((UInt128)reader.ReadUInt64() << 64) | reader.ReadUInt64());
            for (int i = reader.ReadInt32(); i > 0; i--) kept.Add((reader.ReadInt32(), reader.ReadInt64()));
            bool hasIndex = reader.ReadBoolean();
            if (hasIndex != index is not null) throw new InvalidDataException("the checkpoint was taken with another --dedup");
            index?.Load(reader);
            return state;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException or EndOfStreamException)
        {
            throw new InvalidInputException($"{folder}: the checkpoint cannot be read ({e.Message}); delete {output} and start again.", e);
        }
    }

    /// <summary>Removes the checkpoints once the run is complete.</summary>
    public static void Delete(string output)
    {
        string root = Path.Combine(output, FolderName);
        if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
    }
}
