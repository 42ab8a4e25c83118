using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using SharpLM.Tests.Interop;

namespace SharpLM.Tests.Cli;

/// <summary><c>sharplm serve</c> as a process: it starts on a free port, refuses bad folders, and finishes requests in progress on SIGTERM.</summary>
public class ServeCommandTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    private const int SIGTERM = 15;

    [Fact]
    public async Task SIGTERM_finishes_the_request_in_progress_then_exits_0()
    {
        using var child = ChildProcessCli.Start("serve", "--model", MiniLmOnnx.ModelDirectory, "--port", "0");
        var seen = new StringBuilder();
        string? line, address = null;
        while ((line = child.StandardError.ReadLine()) is not null)
        {
            seen.AppendLine(line);
            if (line.StartsWith("listening on ", StringComparison.Ordinal)) { address = line.Split(' ')[2]; break; }
        }
        Assert.True(address is not null, $"the server never listened:\n{seen}");
        Assert.Contains("serving 'sharplm-all-MiniLM-L6-v2", seen.ToString());

        using var client = new HttpClient { BaseAddress = new Uri(address!), Timeout = TimeSpan.FromMinutes(1) };
        // 128 texts of about 220 tokens: a request that is still being computed when the signal arrives (seconds of work here).
        var texts = Enumerable.Range(0, 128).Select(i => $"Sentence {i}: " + string.Join(' ', Enumerable.Repeat("the state of the union and the economy", 30))).ToArray();
        var request = client.PostAsync("/embed", new StringContent(JsonSerializer.Serialize(new { inputs = texts }), Encoding.UTF8, "application/json"));
        await Task.Delay(300);
        Assert.False(request.IsCompleted, "the request finished before the signal; make it longer");
        Assert.Equal(0, kill(child.Id, SIGTERM));
        var response = await request;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(128, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetArrayLength());
        string rest = await child.StandardError.ReadToEndAsync();
        Assert.True(child.WaitForExit(TimeSpan.FromSeconds(30)), "still running 30 s after SIGTERM");
        Assert.Equal(0, child.ExitCode);
        Assert.Contains("stopped", rest);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync("/health"));
    }

    [Fact]
    public void A_folder_that_is_not_a_model_is_refused_before_listening()
    {
        string empty = _temp.Of("empty");
        Directory.CreateDirectory(empty);
        CliRun.Of("serve", "--model", empty, "--port", "0").AssertFailsNaming(empty, "config.json");
        CliRun.Of("serve", "--model", $"a={MiniLmOnnx.ModelDirectory}", "--model", $"a={MiniLmOnnx.ModelDirectory}", "--port", "0").AssertFailsNaming("serve", "two models are named 'a'");
    }
}
