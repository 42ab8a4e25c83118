using System.Diagnostics;
using SharpLM.Text;

namespace SharpLM.Bench;

/// <summary>
/// Where SharpLM's tokenisation time goes, best of 25 passes over the text: basic tokenisation alone,
/// plus WordPiece, the id path (<see cref="BertTokenizer.AppendIds"/>), and the full encoding with offsets.
/// </summary>
internal static class StageProfile
{
    public static int Run(string[] files)
    {
        var lines = files.SelectMany(File.ReadLines).Where(l => l.Length > 0).ToArray();
        string folder = Directory.CreateTempSubdirectory("p").FullName;
        var tok = BertTokenizer.Load(BertBaseUncased.WriteVocab(folder));
        var pre = new BertPreTokenizer(true, true);
        var words = new PreTokenizedText();
        var ids = new List<int>();
        double a = 1e9, b = 1e9, c = 1e9, d = 1e9, e = 1e9, f = 1e9;
        var enc = new WordPieceEncoder(tok.Vocabulary);
        var pieces = new PieceList();
        long nw = 0;
        for (int r = 0; r < 25; r++)
        {
            var sw = Stopwatch.StartNew();
            foreach (var l in lines) pre.Split(l, words);
            a = Math.Min(a, sw.Elapsed.TotalMilliseconds); sw.Restart();
            nw = 0;
            foreach (var l in lines) { pre.Split(l, words); pieces.Clear(); for (int w = 0; w < words.Count; w++) enc.Encode(words.Word(w), pieces); nw += words.Count; }
            d = Math.Min(d, sw.Elapsed.TotalMilliseconds); sw.Restart();
            foreach (var l in lines) { ids.Clear(); tok.AppendIds(l, ids); }
            b = Math.Min(b, sw.Elapsed.TotalMilliseconds); sw.Restart();
            foreach (var l in lines) tok.Encode(l);
            c = Math.Min(c, sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            TwoThreads(lines, line => { var mine = new List<int>(); tok.AppendIds(line, mine); });
            e = Math.Min(e, sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            TwoThreads(lines, line => tok.Encode(line));
            f = Math.Min(f, sw.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine($"best of 25: split {a:F1} ms  split+wordpiece {d:F1} ms ({nw} words)  ids {b:F1} ms  encode {c:F1} ms; two threads: ids {e:F1} ms  encode {f:F1} ms");
        return 0;
    }

    private static void TwoThreads(string[] lines, Action<string> work)
    {
        var threads = Enumerable.Range(0, 2).Select(t => new Thread(() => { for (int i = t; i < lines.Length; i += 2) work(lines[i]); })).ToList();
        threads.ForEach(x => x.Start());
        threads.ForEach(x => x.Join());
    }
}
