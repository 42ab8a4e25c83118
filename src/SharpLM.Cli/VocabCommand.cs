using System.CommandLine;
using System.Diagnostics;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Text;

namespace SharpLM.Cli;

/// <summary><c>sharplm vocab train</c>: learns a WordPiece vocabulary from text files and folders.</summary>
public static class VocabCommand
{
    /// <summary>Creates the <c>vocab</c> verb and its <c>train</c> sub-verb.</summary>
    public static Command Create(CommandContext context)
    {
        var input = new Option<string[]>("--input") { Description = $"Corpus files or folders, read streamed: {TextFieldOption.Formats}.", Required = true, AllowMultipleArgumentsPerToken = true };
        var vocabSize = new Option<int>("--vocab-size") { Description = "Tokens in the vocabulary, special tokens included.", DefaultValueFactory = _ => 30522 };
        var output = new Option<string>("--output") { Description = "Where to write vocab.txt (wordpiece) or tokenizer.json (bpe, with vocab.json and merges.txt beside it).", Required = true };
        var type = new Option<string>("--type") { Description = "wordpiece (BERT's, the default) or bpe (GPT-2's byte-level BPE, for causal models).", DefaultValueFactory = _ => "wordpiece" };
        var cased = new Option<bool>("--cased") { Description = "Keep case and accents (default: lowercase and strip accents, as bert-base-uncased)." };
        var minFrequency = new Option<int>("--min-frequency") { Description = "Stop merging when the best pair occurs fewer times than this.", DefaultValueFactory = _ => 2 };
        var textField = TextFieldOption.Create();
        var train = new Command("train", "Learn a WordPiece vocabulary (BPE merges with ## continuations, as Hugging Face's BertWordPieceTokenizer), or with --type bpe a byte-level BPE (as its ByteLevelBPETokenizer).")
        {
            input, vocabSize, output, cased, minFrequency, textField, type,
        };
        train.SetAction(parse =>
        {
            switch (parse.GetValue(type))
            {
                case "wordpiece": break;
                case "bpe":
                    if (parse.GetValue(cased)) throw new InvalidInputException("--cased is for wordpiece: a byte-level BPE never changes the text.");
                    var tokenizer = TrainByteLevel(parse.GetValue(input)!, parse.GetValue(vocabSize), parse.GetValue(minFrequency), context, parse.GetValue(textField)!);
                    ByteLevelBpeFiles.Save(tokenizer, parse.GetValue(output)!);
                    context.Error.WriteLine($"wrote {tokenizer.Count} tokens ({tokenizer.Merges.Count} merges) to {parse.GetValue(output)}, with vocab.json and merges.txt beside it");
                    return 0;
                default: throw new InvalidInputException($"--type {parse.GetValue(type)}: use wordpiece or bpe.");
            }
            var vocabulary = Train(parse.GetValue(input)!, parse.GetValue(vocabSize), parse.GetValue(minFrequency), parse.GetValue(cased), context, parse.GetValue(textField)!);
            vocabulary.Save(parse.GetValue(output)!);
            context.Error.WriteLine($"wrote {vocabulary.Count} tokens to {parse.GetValue(output)}");
            return 0;
        });
        return new Command("vocab", "Vocabulary tools.") { train };
    }

    /// <summary>Counts GPT-2's pieces on all cores and learns a byte-level BPE with &lt;|endoftext|&gt;, reporting progress on the error stream.</summary>
    public static ByteLevelBpeTokenizer TrainByteLevel(IReadOnlyList<string> inputs, int vocabSize, int minFrequency, CommandContext context, string textField = "text")
    {
        var (counts, clock) = Count(inputs, WordCounter.ByteLevel(), minFrequency, "pieces", "text", context, textField);
        var tokenizer = ByteLevelBpeTrainer.Train(counts, vocabSize, minFrequency, [ByteLevelBpeTrainer.EndOfText],
            (merges, size) => context.Error.WriteLine($"merges: {merges:N0}, vocabulary: {size:N0}/{vocabSize:N0}, {clock.Elapsed.TotalSeconds:F1} s"));
        if (tokenizer.Count < vocabSize)
            context.Error.WriteLine($"note: stopped at {tokenizer.Count} tokens: no pair occurs --min-frequency {minFrequency} times or more.");
        return tokenizer;
    }

    // Counts the corpus's words (or pieces) on all cores with progress every 5 s; a corpus with none is refused.
    private static (Dictionary<string, long> Counts, Stopwatch Clock) Count(IReadOnlyList<string> inputs, WordCounter counter, int minFrequency,
        string unit, string none, CommandContext context, string textField)
    {
        if (minFrequency < 1) throw new InvalidInputException($"--min-frequency {minFrequency}: must be at least 1.");
        var files = CorpusFiles.Expand(inputs);
        var clock = Stopwatch.StartNew();
        Dictionary<string, long> counts;
        using (new Timer(_ => context.Error.WriteLine($"counting words: {counter.CharactersRead / 1e6:F1}M characters, {clock.Elapsed.TotalSeconds:F0} s"), null, 5000, 5000))
            counts = counter.Count(new CorpusTexts(textField).ReadLines(files));
        if (counts.Count == 0) throw new InvalidInputException($"{string.Join(", ", inputs)}: no {none} found in the input.");
        context.Error.WriteLine($"counted {counts.Values.Sum():N0} {unit} ({counts.Count:N0} distinct) in {files.Count} file(s), {clock.Elapsed.TotalSeconds:F1} s");
        return (counts, clock);
    }

    /// <summary>Counts words on all cores and learns the vocabulary, reporting progress on the error stream.</summary>
    public static Vocabulary Train(IReadOnlyList<string> inputs, int vocabSize, int minFrequency, bool cased, CommandContext context, string textField = "text")
    {
        if (vocabSize <= Vocabulary.SpecialTokens.Count) throw new InvalidInputException($"--vocab-size {vocabSize}: must be more than the {Vocabulary.SpecialTokens.Count} special tokens.");
        var (counts, clock) = Count(inputs, new WordCounter(new BertPreTokenizer(lowercase: !cased, stripAccents: !cased)), minFrequency, "words", "words", context, textField);

        var trainer = new WordPieceTrainer(new WordPieceTrainerOptions(vocabSize, minFrequency));
        trainer.Progress += (merges, size) => context.Error.WriteLine($"merges: {merges:N0}, vocabulary: {size:N0}/{vocabSize:N0}, {clock.Elapsed.TotalSeconds:F1} s");
        var vocabulary = trainer.Train(counts);
        if (vocabulary.Count > vocabSize)
            context.Error.WriteLine($"warning: the corpus has {vocabulary.Count - Vocabulary.SpecialTokens.Count} distinct characters and character forms, more than --vocab-size {vocabSize}; all are kept so that no character becomes [UNK].");
        else if (vocabulary.Count < vocabSize)
            context.Error.WriteLine($"note: stopped at {vocabulary.Count} tokens: no pair occurs --min-frequency {minFrequency} times or more.");
        return vocabulary;
    }
}
