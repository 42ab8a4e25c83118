using System.Diagnostics;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;

namespace SharpLM.Tests.Packaging;

/// <summary>
/// The two NuGet packages as a user gets them: <c>dotnet pack</c> into a local folder, the tool installed with
/// <c>dotnet tool install --tool-path</c> and run (a verb that loads libtorch included), and a new project outside this
/// repository that references the library package, built and run. Both must load TorchSharp on Debian 12, so the
/// libstdc++ fix has to travel inside the packages.
/// </summary>
public class PackageTests : IDisposable
{
    private readonly TempFolder _temp = new();
    // A version of its own, so that NuGet's global cache never hands back a package an earlier run packed.
    private readonly string _version = $"0.1.0-test.{DateTime.UtcNow:yyyyMMddHHmmss}.{Environment.ProcessId}";

    public void Dispose()
    {
        _temp.Dispose();
        string cached = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "sharplm", _version);
        if (Directory.Exists(cached)) Directory.Delete(cached, recursive: true);
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, "SharpLM.slnx"))) return folder.FullName;
        throw new InvalidOperationException("the repository root (SharpLM.slnx) is not above the test binaries");
    }

    private static string Run(string program, string workingDirectory, params string[] args)
    {
        var info = new ProcessStartInfo(program) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string arg in args) info.ArgumentList.Add(arg);
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(TimeSpan.FromMinutes(8)), $"{program} {string.Join(' ', args)} took over 8 minutes");
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {process.ExitCode}:\n{output}\n{error.Result}");
        return output;
    }

    [Fact]
    public void The_tool_and_the_library_packages_install_and_load_libtorch_on_this_system()
    {
        string root = RepositoryRoot(), feed = _temp.Of("feed");
        foreach (string project in new[] { "src/SharpLM", "src/SharpLM.Cli" })
            Run("dotnet", root, "pack", project, "-c", "Release", "-o", feed, $"-p:Version={_version}");
        Assert.True(File.Exists(Path.Combine(feed, $"SharpLM.{_version}.nupkg")));
        Assert.True(File.Exists(Path.Combine(feed, $"SharpLM.{_version}.snupkg")));
        Assert.True(File.Exists(Path.Combine(feed, $"SharpLM.Cli.{_version}.nupkg")));

        // A tiny model folder for a verb that runs libtorch.
        string model = _temp.Of("model");
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count);
        using (var bert = new BertForPreTraining(config)) HuggingFaceCheckpoint.Save(bert, config, vocabulary, model);
        string expectedIds = string.Join(' ', new BertTokenizer(vocabulary).Encode("The state of our Union is strong.").Ids);

        // The tool.
        string tools = _temp.Of("tools");
        Run("dotnet", _temp.Path, "tool", "install", "--tool-path", tools, "--add-source", feed, "--version", _version, "SharpLM.Cli");
        string sharplm = Path.Combine(tools, "sharplm");
        Assert.StartsWith(_version, Run(sharplm, _temp.Path, "--version").Trim());
        Assert.Equal(expectedIds, Run(sharplm, _temp.Path, "tokenize", "--vocab", TestData.BertBaseUncasedVocab, "The state of our Union is strong.").Trim());
        string filled = Run(sharplm, _temp.Path, "fill-mask", "--model", model, "--top-k", "2", "The [MASK] is strong.");
        Assert.Contains("\"token_str\"", filled);

        // A project of the user's, outside this repository (no Directory.Build.* of ours above it), on the library package.
        string consumer = _temp.Of("consumer");
        Directory.CreateDirectory(consumer);
        File.WriteAllText(Path.Combine(consumer, "Consumer.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <RestoreAdditionalProjectSources>{feed}</RestoreAdditionalProjectSources>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="SharpLM" Version="{_version}" />
              </ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(consumer, "Program.cs"), """
            using SharpLM.Model;
            using SharpLM.Text;
            using static TorchSharp.torch;

            var vocabulary = Vocabulary.Load(args[0]);
            var encoded = new BertTokenizer(vocabulary).Encode("The state of our Union is strong.");
            Console.WriteLine(string.Join(' ', encoded.Ids));
            using var model = new BertModel(BertConfig.Preset("tiny", vocabulary.Count));
            model.eval();
            using var ids = tensor(encoded.Ids.Select(i => (long)i).ToArray()).unsqueeze(0);
            var (hidden, _) = model.call(ids, zeros_like(ids), ones_like(ids));
            Console.WriteLine(string.Join('x', hidden.shape));
            """);
        var lines = Run("dotnet", consumer, "run", "-c", "Release", "--", TestData.BertBaseUncasedVocab).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expectedIds, lines[^2].Trim());
        Assert.Equal($"1x{expectedIds.Split(' ').Length}x128", lines[^1].Trim());
    }
}
