using SharpLM.Bench;

// Benchmarks, never run by the test suite. See docs/benchmarks.md for the commands and figures.
return args.FirstOrDefault() switch
{
    "tokenize" => TokenizeBenchmark.Run(args[1..]),
    "fertility" => FertilityBenchmark.Run(args[1..]),
    "profile" => Profile(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: SharpLM.Bench tokenize [--rounds N] TEXT_FILE...\n       SharpLM.Bench fertility --vocab VOCAB [--vocab VOCAB...] HELD_OUT_FILE...");
    return 2;
}

static int Profile(string[] files)
{
    var lines = files.SelectMany(File.ReadLines).Where(l => l.Length > 0).ToArray();
    string folder = Directory.CreateTempSubdirectory("p").FullName;
    var tok = SharpLM.Text.BertTokenizer.Load(SharpLM.Bench.BertBaseUncased.WriteVocab(folder));
    var pre = new SharpLM.Text.BertPreTokenizer(true, true);
    var words = new SharpLM.Text.PreTokenizedText();
    var ids = new List<int>();
    for (int r = 0; r < 4; r++)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        foreach (var l in lines) pre.Split(l, words);
        double a = sw.Elapsed.TotalSeconds; sw.Restart();
        foreach (var l in lines) { ids.Clear(); tok.AppendIds(l, ids); }
        double b = sw.Elapsed.TotalSeconds; sw.Restart();
        foreach (var l in lines) tok.Encode(l);
        double c = sw.Elapsed.TotalSeconds;
        sw.Restart();
        var ts = Enumerable.Range(0, 2).Select(t => new Thread(() => { var my = new List<int>(); for (int i = t; i < lines.Length; i += 2) { my.Clear(); tok.AppendIds(lines[i], my); } })).ToList();
        ts.ForEach(x => x.Start()); ts.ForEach(x => x.Join());
        double d = sw.Elapsed.TotalSeconds; sw.Restart();
        ts = Enumerable.Range(0, 2).Select(t => new Thread(() => { for (int i = t; i < lines.Length; i += 2) tok.Encode(lines[i]); })).ToList();
        ts.ForEach(x => x.Start()); ts.ForEach(x => x.Join());
        double e = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"split {a:F3}s  ids {b:F3}s  encode {c:F3}s  ids2 {d:F3}s encode2 {e:F3}s gen2={GC.CollectionCount(2)}");
    }
    return 0;
}
