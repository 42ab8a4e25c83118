using System.Runtime.InteropServices;
using System.Text;

namespace SharpLM;

/// <summary>
/// Writes files so that a reader (or a crash) never sees half of one: the content goes to a
/// temporary file in the same folder, is flushed to disk, and is renamed over the target.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="text"/> as UTF-8 without a byte-order mark.</summary>
    public static void WriteAllText(string path, string text) => WriteText(path, writer => writer.Write(text));

    /// <summary>Lets <paramref name="write"/> fill a UTF-8 text writer (no byte-order mark), then renames the result over <paramref name="path"/>.</summary>
    public static void WriteText(string path, Action<TextWriter> write) =>
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
            write(writer);
        });

    /// <summary>
    /// Opens a temporary file beside <paramref name="path"/>, lets <paramref name="write"/> fill it,
    /// then flushes and renames it over <paramref name="path"/>. If <paramref name="write"/> throws,
    /// the temporary file is removed and <paramref name="path"/> is left as it was.
    /// </summary>
    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
            SyncFolder(folder);
        }
        catch (Exception e)
        {
            try { File.Delete(temp); } catch (IOException) { /* best effort: the target is untouched either way */ }
            if (WriteFailure(e) is not string problem || e is FileNotFoundException or DirectoryNotFoundException) throw;
            throw new IOException($"{full}: could not be written ({problem.Replace($" : '{temp}'", "")}); " +
                $"{(File.Exists(full) ? "the previous version is untouched" : "nothing was left behind")}.", e);
        }
    }

    /// <summary>
    /// What went wrong when <paramref name="e"/> came from writing a file, worded for the user, or null
    /// when it did not. A full disk (ENOSPC) surfaces as an IOException; a file too large for the file
    /// system or the process's limit (EFBIG: FAT32, ulimit -f) as an ArgumentOutOfRangeException thrown
    /// inside System.IO.
    /// </summary>
    public static string? WriteFailure(Exception e) => e switch
    {
        IOException => e.Message,
        ArgumentOutOfRangeException when e.StackTrace?.Contains("System.IO.", StringComparison.Ordinal) == true =>
            "the file is too large for the file system or the process's file-size limit",
        _ => null,
    };

    /// <summary>
    /// Flushes a folder's entries to disk, so that a rename in it survives a power cut as well as a crash
    /// (on Linux; elsewhere, and where the file system refuses, the rename is left to the OS).
    /// </summary>
    public static void SyncFolder(string folder)
    {
        if (!OperatingSystem.IsLinux()) return;
        const int ReadOnlyDirectory = 0x10000; // O_RDONLY | O_DIRECTORY on Linux
        int descriptor = open(folder, ReadOnlyDirectory);
        if (descriptor < 0) return;
        fsync(descriptor);
        close(descriptor);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc")]
    private static extern int fsync(int descriptor);

    [DllImport("libc")]
    private static extern int close(int descriptor);
}
