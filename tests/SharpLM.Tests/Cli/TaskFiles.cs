using System.Text.RegularExpressions;

namespace SharpLM.Tests.Cli;

/// <summary>Small task files made from the real default corpus, easy enough that a tiny model learns them in seconds.</summary>
internal static class TaskFiles
{
    private static string Csv(string field) => "\"" + field.Replace("\"", "\"\"") + "\"";

    // English State of the Union sentences against Tang verse lines.
    public static string Language(TempFolder temp, string name, int skip, int count)
    {
        var english = TestData.Lines(TestData.SotuPath).SelectMany(l => l.Split(". ")).Where(s => s.Length > 20).Skip(skip).Take(count);
        var chinese = TestData.Lines(TestData.TangPath).Skip(skip).Take(count);
        var rows = english.Select(s => $"{Csv(s)},english").Concat(chinese.Select(s => $"{Csv(s)},chinese")).ToList();
        return temp.Write(name, "text,label\n" + string.Join("\n", rows) + "\n");
    }

    // Sentences of the real corpus tagged with Congress (B-ORG), America and United States (B-LOC, I-LOC).
    public static string EntityTagging(TempFolder temp, string name, int skip, int count)
    {
        var sentences = TestData.Lines(TestData.SotuPath).SelectMany(l => l.Split(". "))
            .Where(s => Regex.IsMatch(s, @"\b(Congress|America|United States)\b") && s.Split(' ').Length < 30).Skip(skip).Take(count);
        var text = new System.Text.StringBuilder();
        foreach (string sentence in sentences)
        {
            var words = sentence.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            for (int i = 0; i < words.Length; i++)
            {
                string Bare(int j) => j < words.Length ? words[j].Trim(',', '.', ';', ':', '"', '\'') : "";
                string tag = Bare(i) switch
                {
                    "Congress" => "B-ORG",
                    "America" => "B-LOC",
                    "United" when Bare(i + 1) == "States" => "B-LOC",
                    "States" when Bare(i - 1) == "United" => "I-LOC",
                    _ => "O",
                };
                text.Append(words[i]).Append(' ').Append(tag).Append('\n');
            }
            text.Append('\n');
        }
        return temp.Write(name, text.ToString());
    }

    /// <summary>The texts of a file <see cref="Language"/> wrote, without their labels.</summary>
    public static IEnumerable<string> Texts(string csv) => File.ReadAllLines(csv).Skip(1).Select(line =>
    {
        string field = line[..line.LastIndexOf(',')];
        return field.StartsWith('"') ? field[1..^1].Replace("\"\"", "\"") : field;
    });

    /// <summary>The sentences of a CoNLL file, words joined by spaces.</summary>
    public static IEnumerable<string> Sentences(string conll) =>
        SharpLM.Tasks.TokenClassification.ConllFile.Read(conll).Select(s => string.Join(' ', s.Words));
}
