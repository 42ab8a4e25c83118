using System.Reflection;

namespace SharpLM.Tests.Build;

/// <summary>The build step that makes TorchSharp's native library load on Debian 12, run on a pristine copy from the NuGet cache.</summary>
public class WeakenMissingLibstdcxxVersionsTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static string Pristine => typeof(WeakenMissingLibstdcxxVersionsTests).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "PristineLibTorchSharp").Value!;

    private static bool SystemHasGlibcxx3432 =>
        new[] { "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6" }
            .Where(File.Exists).Any(p => File.ReadAllBytes(p).AsSpan().IndexOf("GLIBCXX_3.4.32\0"u8) >= 0);

    private static (bool Ok, List<string> Messages) Patch(string path)
    {
        string systemLib = LibstdcxxVersionPatcher.FindSystemLibstdcxx() ?? throw new InvalidOperationException("no system libstdc++");
        try { return (true, LibstdcxxVersionPatcher.Patch(path, systemLib)); }
        catch (InvalidDataException e) { return (false, [$"{path}: {e.Message}"]); }
    }

    [Fact]
    public void Marks_only_the_missing_version_weak_and_a_second_run_changes_nothing()
    {
        string copy = _temp.Of("libLibTorchSharp.so");
        File.Copy(Pristine, copy);
        byte[] before = File.ReadAllBytes(copy);

        var (ok, messages) = Patch(copy);
        Assert.True(ok, string.Join("\n", messages));
        byte[] after = File.ReadAllBytes(copy);
        var changed = Enumerable.Range(0, before.Length).Where(i => before[i] != after[i]).ToList();
        if (SystemHasGlibcxx3432)
        {
            Assert.Empty(changed); // nothing to do where libstdc++ is new enough
            return;
        }
        // One byte: the low byte of vna_flags of the GLIBCXX_3.4.32 entry, 0 -> VER_FLG_WEAK (2).
        Assert.Single(changed);
        Assert.Equal((0, 2), (before[changed[0]], after[changed[0]]));
        Assert.Contains(messages, m => m.StartsWith("marked GLIBCXX_3.4.32 weak") && m.Contains("_ZSt21ios_base_library_initv"));

        var (again, _) = Patch(copy);
        Assert.True(again);
        Assert.Equal(after, File.ReadAllBytes(copy));
        Assert.Single(Directory.GetFiles(_temp.Path)); // no temporary file left
    }

    [Fact]
    public void A_file_that_is_not_ELF_or_is_truncated_fails_the_build_with_its_name()
    {
        string path = _temp.Of("libLibTorchSharp.so");
        File.WriteAllText(path, "not a library");
        var (ok, messages) = Patch(path);
        Assert.False(ok);
        Assert.Contains(messages, m => m.Contains(path) && m.Contains("not an ELF file"));

        File.WriteAllBytes(path, File.ReadAllBytes(Pristine)[..4096]);
        (ok, messages) = Patch(path);
        Assert.False(ok);
        Assert.Contains(messages, m => m.Contains("truncated or malformed ELF file"));
    }
}
