using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using SharpLM.Text;

namespace SharpLM.Bench;

/// <summary>
/// A load test of a running <c>sharplm serve</c> on the loopback: for each number of concurrent clients, every client
/// posts one sentence (cut at ". ", of at most --max-tokens tokens) at a time to /embed until the level's request count or time is
/// spent; prints requests/s, p50/p99 latency, failures, and the server's resident memory before and after.
/// </summary>
public static class ServeLoadBenchmark
{
    /// <summary>usage: serve-load URL TEXT_FILE VOCAB --pid PID [--clients 1,8,32,32] [--requests 640] [--seconds 60] [--max-tokens 64] [--warmup 2000]</summary>
    public static int Run(string[] args)
    {
        string url = args[0], textFile = args[1], vocab = args[2];
        int pid = int.Parse(Option(args, "--pid") ?? throw new ArgumentException("--pid PID of the server is required"), CultureInfo.InvariantCulture);
        int[] levels = (Option(args, "--clients") ?? "1,8,32,32").Split(',').Select(int.Parse).ToArray();
        int requests = int.Parse(Option(args, "--requests") ?? "640", CultureInfo.InvariantCulture);
        double seconds = double.Parse(Option(args, "--seconds") ?? "60", CultureInfo.InvariantCulture);
        int maxTokens = int.Parse(Option(args, "--max-tokens") ?? "64", CultureInfo.InvariantCulture);
        int warmup = int.Parse(Option(args, "--warmup") ?? "2000", CultureInfo.InvariantCulture);

        var tokenizer = BertTokenizer.Load(vocab);
        var sentences = File.ReadLines(textFile).SelectMany(l => l.Split(". ")).Select(l => l.Trim().TrimEnd('.') + ".").Where(l => l.Length > 20 && tokenizer.Encode(l).Length <= maxTokens).Take(5000).ToArray();
        var lengths = sentences.Select(s => tokenizer.Encode(s).Length).ToArray();
        Console.WriteLine($"{sentences.Length} sentences of {lengths.Min()}-{lengths.Max()} tokens (mean {lengths.Average():F1}) from {textFile}; server pid {pid} at {url}");
        using var client = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        // Unreported warm-up at the highest load: the JIT's tiers and the allocators settle (measured: throughput rose by a
        // fifth and resident memory grew over the first ~3,000 requests, then stayed flat).
        Console.WriteLine($"warm-up: {warmup} requests from {levels.Max()} clients");
        Level(client, sentences, levels.Max(), warmup, seconds * 10, pid, quiet: true);
        Console.WriteLine("clients  requests  failed  req/s    p50 ms   p99 ms   max ms   RSS MiB before -> peak -> after   texts per model call");
        foreach (int clients in levels) Level(client, sentences, clients, requests, seconds, pid, quiet: false);
        return 0;
    }

    private static void Level(HttpClient client, string[] sentences, int clients, int requests, double seconds, int pid, bool quiet)
    {
        double rssBefore = ResidentMiB(pid), rssPeak = rssBefore;
        var (callsBefore, textsBefore) = Batches(client);
        var latencies = new List<double>[clients];
        int next = -1, failed = 0;
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            latencies[c] = [];
            int n;
            while ((n = Interlocked.Increment(ref next)) < requests && clock.Elapsed.TotalSeconds < seconds)
            {
                var sent = Stopwatch.StartNew();
                try
                {
                    using var response = await client.PostAsJsonAsync("/embed", new { inputs = sentences[n % sentences.Length] });
                    var body = await response.Content.ReadAsByteArrayAsync();
                    if (!response.IsSuccessStatusCode || body.Length < 100) Interlocked.Increment(ref failed);
                }
                catch (HttpRequestException) { Interlocked.Increment(ref failed); }
                catch (TaskCanceledException) { Interlocked.Increment(ref failed); }
                latencies[c].Add(sent.Elapsed.TotalMilliseconds);
            }
        })).ToArray();
        while (!Task.WaitAll(workers, 250)) rssPeak = Math.Max(rssPeak, ResidentMiB(pid));
        double elapsed = clock.Elapsed.TotalSeconds;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        if (quiet) return;
        var (callsAfter, textsAfter) = Batches(client);
        double Percentile(double p) => all[Math.Min(all.Length - 1, (int)Math.Ceiling(p * all.Length) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{clients,7}  {all.Length,8}  {failed,6}  {all.Length / elapsed,6:F1}  {Percentile(0.5),7:F1}  {Percentile(0.99),7:F1}  {all[^1],7:F1}   {rssBefore:F0} -> {rssPeak:F0} -> {ResidentMiB(pid):F0}   {(textsAfter - textsBefore) / (double)Math.Max(1, callsAfter - callsBefore),5:F1}"));
    }

    // The server's own count of model calls and texts (GET /info), summed over its models.
    private static (long Calls, long Texts) Batches(HttpClient client)
    {
        using var info = System.Text.Json.JsonDocument.Parse(client.GetStringAsync("/info").GetAwaiter().GetResult());
        var batches = info.RootElement.GetProperty("models").EnumerateArray().Select(m => m.GetProperty("batches")).ToList();
        return (batches.Sum(b => b.GetProperty("calls").GetInt64()), batches.Sum(b => b.GetProperty("texts").GetInt64()));
    }

    private static double ResidentMiB(int pid) =>
        File.ReadLines($"/proc/{pid}/status").Where(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))
            .Select(l => double.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024).First();

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
