using System.CommandLine;
using SharpLM.Text;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm quickstart</c>: the main job on the embedded default corpus (State of the Union
/// addresses and Tang poems): writes the corpus out, learns a vocabulary from it, and tokenizes a sample.
/// </summary>
public static class QuickstartCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var output = new Option<string>("--output") { Description = "Run folder.", DefaultValueFactory = _ => Path.Combine("runs", "quickstart") };
        var vocabSize = new Option<int>("--vocab-size") { Description = "Tokens in the vocabulary.", DefaultValueFactory = _ => 16000 };
        var command = new Command("quickstart", "Learn a vocabulary from the embedded default corpus and tokenize a sample, in runs/quickstart/.")
        {
            output, vocabSize,
        };
        command.SetAction(parse =>
        {
            string folder = parse.GetValue(output)!;
            string corpus = DefaultCorpus.Write(Path.Combine(folder, "corpus"));
            context.Error.WriteLine($"default corpus written to {corpus}");
            var vocabulary = VocabCommand.Train([corpus], parse.GetValue(vocabSize), 2, cased: false, context);
            string vocabPath = Path.Combine(folder, "vocab.txt");
            vocabulary.Save(vocabPath);
            context.Output.WriteLine($"vocabulary: {vocabulary.Count} tokens in {vocabPath}");
            var tokenizer = new BertTokenizer(vocabulary);
            foreach (string sample in new[] { "The state of our Union is strong, and our economy is growing.", "床前明月光，疑是地上霜。" })
            {
                var encoded = tokenizer.Encode(sample);
                context.Output.WriteLine(sample);
                context.Output.WriteLine($"  tokens: {string.Join(' ', encoded.Tokens)}");
                context.Output.WriteLine($"  ids:    {string.Join(' ', encoded.Ids)}");
            }
            return 0;
        });
        return command;
    }
}
