using System.Text;

namespace SharpLM.Tests;

/// <summary>A fresh folder under /tmp for one test class instance, deleted afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    /// <summary>The folder's full path.</summary>
    public string Path { get; } = Directory.CreateTempSubdirectory("sharplm-test-").FullName;

    /// <summary>The path of <paramref name="names"/> (joined) inside the folder.</summary>
    public string Of(params string[] names) => System.IO.Path.Combine([Path, .. names]);

    /// <summary>Writes <paramref name="content"/> to <paramref name="name"/> and returns its path.</summary>
    public string Write(string name, byte[] content)
    {
        string path = Of(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>Writes <paramref name="content"/> as UTF-8 to <paramref name="name"/> and returns its path.</summary>
    public string Write(string name, string content) => Write(name, Encoding.UTF8.GetBytes(content));

    /// <inheritdoc/>
    public void Dispose() => Directory.Delete(Path, recursive: true);
}
