using System.CommandLine;
using System.Diagnostics;
using SharpLM.Data.Cleaning;

namespace SharpLM.Cli;

/// <summary><c>sharplm data clean</c>: quality filters and exact and near-duplicate removal over a corpus, into JSON Lines shards and a report.</summary>
public static class DataCleanCommand
{
    /// <summary>Creates the <c>clean</c> sub-verb of <c>data</c>.</summary>
    public static Command Create(CommandContext context)
    {
        var d = new CleaningOptions();
        var input = new Option<string[]>("--input") { Description = $"Corpus files or folders: {TextFieldOption.Formats}.", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--output") { Description = "Folder to create for the cleaned shards (part-NNNNN.jsonl or .parquet) and report.json.", Required = true };
        var threshold = new Option<double>("--near-dup-threshold") { DefaultValueFactory = _ => d.NearDuplicateThreshold, Description = "Estimated Jaccard similarity of word n-grams from which a document is a near duplicate of an earlier one." };
        var ngram = new Option<int>("--ngram") { DefaultValueFactory = _ => d.Ngram, Description = "Words per shingle (Chinese: characters)." };
        var permutations = new Option<int>("--num-perm") { DefaultValueFactory = _ => d.Permutations, Description = "MinHash signature length." };
        var bands = new Option<int>("--bands") { DefaultValueFactory = _ => d.Bands, Description = "LSH bands (0: chosen from the threshold and --num-perm)." };
        var filters = new Option<string>("--filters") { DefaultValueFactory = _ => d.Filters, Description = "Quality rules: gopher, c4, rule ids (gopher.word-count, c4.line-punctuation, ...) and -id to leave one out, comma-separated; none for no rule." };
        var minWords = new Option<int>("--min-words") { DefaultValueFactory = _ => d.MinWords, Description = "Fewest words of a document (the gopher.word-count rule)." };
        var language = new Option<string>("--lang") { DefaultValueFactory = _ => "en", Description = "en; zh (each Han character is a word; English-only rules skipped); any (English-only rules skipped)." };
        language.AcceptOnlyFromAmong("en", "zh", "any");
        var dedup = new Option<string>("--dedup") { DefaultValueFactory = _ => "near", Description = "near: exact and near duplicates; exact: exact duplicates only; none." };
        dedup.AcceptOnlyFromAmong("near", "exact", "none");
        var report = new Option<string?>("--report") { Description = "Where to write the report (default: OUTPUT/report.json)." };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => Environment.ProcessorCount, Description = "Worker threads." };
        var shardSize = new Option<int>("--shard-size") { DefaultValueFactory = _ => (int)(d.ShardBytes >> 20), Description = "MiB per output shard." };
        var format = new Option<string>("--format") { DefaultValueFactory = _ => "jsonl", Description = "jsonl: part-NNNNN.jsonl of {\"text\": ...}; parquet: part-NNNNN.parquet with one text column (Zstandard)." };
        format.AcceptOnlyFromAmong("jsonl", "parquet");
        var resume = new Option<bool>("--resume") { Description = "Continue a run stopped in --output (Ctrl+C, a kill, a crash) from its latest checkpoint, taken when a shard is finished, at most every 5 minutes." };
        var textField = TextFieldOption.Create();
        var clean = new Command("clean", "Remove low-quality documents (Gopher and C4 rules), exact duplicates and near duplicates (MinHash LSH) from a corpus, in one streaming pass.")
        {
            input, output, threshold, ngram, permutations, bands, filters, minWords, language, dedup, report, threads, shardSize, format, resume, textField,
        };
        clean.SetAction((parse, cancellation) =>
        {
            if (parse.GetValue(threads) < 1) throw new InvalidInputException($"--threads {parse.GetValue(threads)}: must be at least 1.");
            var options = new CleaningOptions(parse.GetValue(filters)!, parse.GetValue(minWords),
                parse.GetValue(language) switch { "zh" => CleaningLanguage.Chinese, "any" => CleaningLanguage.Any, _ => CleaningLanguage.English },
                parse.GetValue(dedup) switch { "none" => Deduplication.None, "exact" => Deduplication.Exact, _ => Deduplication.Near },
                parse.GetValue(threshold), parse.GetValue(ngram), parse.GetValue(permutations), parse.GetValue(bands),
                parse.GetValue(textField)!, parse.GetValue(threads), (long)parse.GetValue(shardSize) << 20,
                parse.GetValue(format) == "parquet" ? CleanedFormat.Parquet : CleanedFormat.JsonLines);
            string folder = parse.GetValue(output)!;
            string reportPath = parse.GetValue(report) ?? Path.Combine(folder, "report.json");
            var cleaner = new CorpusCleaner(options);
            var lastLine = Stopwatch.StartNew();
            cleaner.Progress += p =>
            {
                if (lastLine.Elapsed.TotalSeconds < 5) return;
                lastLine.Restart();
                double rate = p.BytesIn / 1e6 / Math.Max(1e-9, p.Elapsed.TotalSeconds);
                string eta = p.Fraction > 0.01 ? $", ETA {TimeSpan.FromSeconds(p.Elapsed.TotalSeconds * (1 - p.Fraction) / p.Fraction):hh\\:mm\\:ss}" : "";
                context.Error.WriteLine($"documents: {p.DocumentsIn:N0} read, {p.DocumentsOut:N0} kept, {p.BytesIn / 1e6:N0} MB, {rate:F1} MB/s, {100 * p.Fraction:F0}%{eta}");
            };
            CleaningReport result;
            try
            {
                result = cleaner.Clean(parse.GetValue(input)!, folder, cancellation, parse.GetValue(resume));
            }
            catch (OperationCanceledException)
            {
                context.Error.WriteLine(cleaner.Resumable
                    ? $"stopped; continue from the latest checkpoint with the same command and --resume."
                    : $"stopped before the first checkpoint: nothing was written to {folder}.");
                return Task.FromResult(130);
            }
            AtomicFile.WriteAllText(reportPath, result.ToJson() + "\n");
            context.Output.WriteLine($"{folder}: kept {result.DocumentsOut:N0} of {result.DocumentsIn:N0} documents ({result.BytesOut / 1e6:N1} of {result.BytesIn / 1e6:N1} MB) in {result.Shards.Count} shard(s); " +
                (result.Removed.Count == 0 ? "nothing removed" : string.Join(", ", result.Removed.Select(r => $"{r.Key} {r.Value.Documents:N0}"))) +
                $"; {result.Seconds:F1} s, {result.MegabytesPerSecond:F1} MB/s; report: {reportPath}");
            return Task.FromResult(0);
        });
        return clean;
    }
}
