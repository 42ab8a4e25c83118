// MSBuild inline task (see TorchSharpOnDebian.targets for the why).
// It reads just enough of ELF64 to find the libstdc++ version requirements of a library, compares
// them with the versions the system libstdc++ defines, and marks a missing requirement weak when the
// only symbols bound to it are known empty markers that nothing calls.
#nullable enable
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;

// The tests compile this file without MSBuild (SHARPLM_TESTS) and call the patcher directly.
#if !SHARPLM_TESTS
using Microsoft.Build.Framework;

public class WeakenMissingLibstdcxxVersions : Microsoft.Build.Utilities.Task
{
    [Required]
    public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();

    public override bool Execute()
    {
        string? systemLib = LibstdcxxVersionPatcher.FindSystemLibstdcxx();
        if (systemLib == null)
        {
            Log.LogWarning("SharpLM: no system libstdc++.so.6 found in the usual folders; libLibTorchSharp.so left as shipped.");
            return true;
        }
        foreach (ITaskItem item in Libraries)
        {
            string path = item.GetMetadata("FullPath");
            try
            {
                foreach (string message in LibstdcxxVersionPatcher.Patch(path, systemLib))
                    Log.LogMessage(MessageImportance.Normal, "SharpLM: " + message);
            }
            catch (InvalidDataException e) { Log.LogError($"SharpLM: {path}: {e.Message}"); }
        }
        return !Log.HasLoggedErrors;
    }
}
#endif

/// <summary>The ELF work of the task, free of MSBuild types so that the tests can run it.</summary>
public static class LibstdcxxVersionPatcher
{
    // GCC 13's <iostream> emits `.globl _ZSt21ios_base_library_initv` so that linking pulls in a new
    // enough libstdc++; the function is empty and never called.
    static readonly HashSet<string> EmptyMarkers = new HashSet<string> { "_ZSt21ios_base_library_initv" };

    static readonly string[] SystemLibstdcxxPaths =
    {
        "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
        "/lib64/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
    };

    const uint ShtGnuVerdef = 0x6ffffffd, ShtGnuVerneed = 0x6ffffffe, ShtGnuVersym = 0x6fffffff, ShtDynsym = 11;
    const ushort VerFlgWeak = 0x2;

    public static string? FindSystemLibstdcxx() => SystemLibstdcxxPaths.FirstOrDefault(File.Exists);

    /// <summary>
    /// Marks weak every libstdc++ version that <paramref name="path"/> needs and <paramref name="systemLib"/>
    /// lacks, when only empty markers use it. Returns what it did; throws InvalidDataException otherwise.
    /// </summary>
    public static List<string> Patch(string path, string systemLib)
    {
        var done = new List<string>();
        HashSet<string> provided;
        try { provided = DefinedVersions(File.ReadAllBytes(systemLib)); }
        catch (InvalidDataException e) { throw new InvalidDataException($"cannot read the symbol versions of {systemLib}: {e.Message}"); }
        try { return PatchElf(path, systemLib, provided, done); }
        catch (ArgumentException) { throw new InvalidDataException("truncated or malformed ELF file"); }
    }

    static List<string> PatchElf(string path, string systemLib, HashSet<string> provided, List<string> done)
    {
        byte[] elf = File.ReadAllBytes(path);
        var sections = Sections(elf);
        var verneed = sections.FirstOrDefault(s => s.Type == ShtGnuVerneed);
        if (verneed.Type == 0) return done; // nothing versioned: nothing to do
        var dynstr = sections[(int)verneed.Link];
        var dynsym = sections.First(s => s.Type == ShtDynsym);
        var versym = sections.First(s => s.Type == ShtGnuVersym);

        bool changed = false;
        long need = verneed.Offset;
        for (uint n = 0; n < verneed.Info; n++)
        {
            ushort count = U16(elf, need + 2);
            string file = CString(elf, dynstr.Offset + U32(elf, need + 4));
            long aux = need + U32(elf, need + 8);
            for (int a = 0; a < count; a++)
            {
                ushort flags = U16(elf, aux + 4);
                ushort index = U16(elf, aux + 6);
                string version = CString(elf, dynstr.Offset + U32(elf, aux + 8));
                bool isLibstdcxx = file == "libstdc++.so.6";
                if (isLibstdcxx && !provided.Contains(version) && (flags & VerFlgWeak) == 0)
                {
                    var users = SymbolsWithVersion(elf, dynsym, dynstr, versym, index);
                    var blocking = users.Where(u => !EmptyMarkers.Contains(u)).ToList();
                    if (blocking.Count > 0)
                        throw new InvalidDataException(
                            $"needs {version} from libstdc++ for {string.Join(", ", blocking)}, which {systemLib} does not define. " +
                            "Install a newer libstdc++6 (GCC 13 or later) or use a TorchSharp build linked against your system's libstdc++.");
                    WriteU16(elf, aux + 4, (ushort)(flags | VerFlgWeak));
                    changed = true;
                    done.Add($"marked {version} weak in {path} (only {string.Join(", ", users)} uses it; {systemLib} lacks it).");
                }
                aux += U32(elf, aux + 12);
            }
            need += U32(elf, need + 12);
        }
        if (!changed) return done;

        // Temp file + rename: never edits a file that may be hard-linked into the NuGet cache, and a
        // crash mid-write never leaves a half-written library. The timestamp is kept so that MSBuild's
        // incremental copy sees the patched file as up to date and does not copy the original back.
        DateTime stamp = File.GetLastWriteTimeUtc(path);
        string temp = path + ".patching";
        File.WriteAllBytes(temp, elf);
        File.SetLastWriteTimeUtc(temp, stamp);
        File.Replace(temp, path, null); // rename(2) on Unix: atomic
        return done;
    }

    static List<string> SymbolsWithVersion(byte[] elf, Section dynsym, Section dynstr, Section versym, ushort index)
    {
        var names = new List<string>();
        long count = dynsym.Size / 24;
        for (long i = 0; i < count; i++)
        {
            if ((U16(elf, versym.Offset + 2 * i) & 0x7fff) != index) continue;
            names.Add(CString(elf, dynstr.Offset + U32(elf, dynsym.Offset + 24 * i)));
        }
        return names;
    }

    static HashSet<string> DefinedVersions(byte[] elf)
    {
        var result = new HashSet<string>();
        var sections = Sections(elf);
        var verdef = sections.FirstOrDefault(s => s.Type == ShtGnuVerdef);
        if (verdef.Type == 0) return result;
        var strtab = sections[(int)verdef.Link];
        long def = verdef.Offset;
        for (uint n = 0; n < verdef.Info; n++)
        {
            long aux = def + U32(elf, def + 12);
            result.Add(CString(elf, strtab.Offset + U32(elf, aux)));
            def += U32(elf, def + 16);
        }
        return result;
    }

    struct Section { public uint Type; public long Offset; public long Size; public uint Link; public uint Info; }

    static List<Section> Sections(byte[] elf)
    {
        if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            throw new InvalidDataException("not an ELF file");
        if (elf[4] != 2 || elf[5] != 1)
            throw new InvalidDataException("not a 64-bit little-endian ELF file");
        long shoff = (long)BitConverter.ToUInt64(elf, 0x28);
        int shentsize = U16(elf, 0x3A), shnum = U16(elf, 0x3C);
        var list = new List<Section>(shnum);
        for (int i = 0; i < shnum; i++)
        {
            long h = shoff + (long)i * shentsize;
            list.Add(new Section
            {
                Type = U32(elf, h + 4),
                Offset = (long)BitConverter.ToUInt64(elf, (int)(h + 24)),
                Size = (long)BitConverter.ToUInt64(elf, (int)(h + 32)),
                Link = U32(elf, h + 40),
                Info = U32(elf, h + 44),
            });
        }
        return list;
    }

    static ushort U16(byte[] b, long at) => BitConverter.ToUInt16(b, checked((int)at));
    static uint U32(byte[] b, long at) => BitConverter.ToUInt32(b, checked((int)at));
    static void WriteU16(byte[] b, long at, ushort v) { b[at] = (byte)v; b[at + 1] = (byte)(v >> 8); }

    static string CString(byte[] b, long at)
    {
        int start = checked((int)at), end = start;
        while (end < b.Length && b[end] != 0) end++;
        return Encoding.ASCII.GetString(b, start, end - start);
    }
}
