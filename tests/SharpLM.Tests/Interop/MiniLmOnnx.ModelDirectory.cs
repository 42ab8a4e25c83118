namespace SharpLM.Tests.Interop;

// The test run's copy of the converted model; kept apart from MiniLmOnnx.cs, which the benchmarks share.
internal static partial class MiniLmOnnx
{
    private static readonly Lazy<string> Converted = new(() =>
    {
        string directory = Path.Combine(Path.GetTempPath(), $"sharplm-all-MiniLM-L6-v2-{Environment.ProcessId}");
        Save(directory, TestData.BertBaseUncasedVocab);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
        return directory;
    });

    /// <summary>The model converted once per test run into a Hugging Face model directory.</summary>
    public static string ModelDirectory => Converted.Value;
}
