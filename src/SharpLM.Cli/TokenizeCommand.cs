using System.CommandLine;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Text;

namespace SharpLM.Cli;

/// <summary><c>sharplm tokenize</c>: one output line of ids (or tokens) per input line, with a WordPiece vocab.txt or a byte-level BPE tokenizer.json.</summary>
public static class TokenizeCommand
{
    /// <summary>Creates the verb.</summary>
    public static Command Create(CommandContext context)
    {
        var vocab = new Option<string?>("--vocab") { Description = "vocab.txt (or a model folder holding one)." };
        var bpe = new Option<string?>("--tokenizer") { Description = "A byte-level BPE tokenizer.json (or a causal model folder holding one) instead of --vocab: ids with no special tokens added." };
        var cased = new Option<bool>("--cased") { Description = "Keep case and accents (default: lowercase and strip accents)." };
        var tokens = new Option<bool>("--tokens") { Description = "Print token strings instead of ids." };
        var pair = new Option<bool>("--pair") { Description = "Each input line is a TAB-separated text pair." };
        var maxLength = new Option<int?>("--max-length") { Description = "Truncate to this many tokens, [CLS] and [SEP] included (longest-first for pairs)." };
        var input = new Option<string?>("--input") { Description = "A UTF-8 file: one text (or TAB-separated pair) per line." };
        var output = new Option<string?>("--output") { Description = "Write here instead of standard output (atomically: nothing is left half-written)." };
        var text = new Argument<string?>("text") { Description = "Text to tokenize, when no --input is given.", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("tokenize", "Turn text into WordPiece ids ([CLS] first, [SEP] last) or byte-level BPE ids, one line per input line.")
        {
            vocab, bpe, cased, tokens, pair, maxLength, input, output, text,
        };
        // Which tokenizer is a matter of the command line (exit code 2), as a missing required option is.
        command.Validators.Add(result =>
        {
            if ((result.GetValue(vocab) is null) == (result.GetValue(bpe) is null))
                result.AddError("tokenize: give either --vocab vocab.txt or --tokenizer tokenizer.json (one of them).");
        });
        command.SetAction(parse =>
        {
            string? file = parse.GetValue(input), single = parse.GetValue(text);
            if ((file is null) == (single is null)) throw new InvalidInputException("tokenize: give either --input FILE or a TEXT argument (one of them).");
            var lines = file is null ? [single!] : CorpusFiles.ReadSingleFile(file, "tokenize");
            Action<TextWriter> write;
            if (parse.GetValue(bpe) is { } path)
            {
                if (parse.GetValue(pair) || parse.GetValue(cased)) throw new InvalidInputException("--pair and --cased are for WordPiece (--vocab); a byte-level BPE encodes the text as it is.");
                var byteLevel = ByteLevelBpeFiles.Load(path);
                write = writer => WriteByteLevel(lines, byteLevel, parse.GetValue(tokens), parse.GetValue(maxLength), writer);
            }
            else
            {
                var tokenizer = new BertTokenizer(Vocabulary.Load(parse.GetValue(vocab)!), lowercase: !parse.GetValue(cased));
                write = writer => Write(lines, tokenizer, parse.GetValue(tokens), parse.GetValue(pair), parse.GetValue(maxLength), file ?? "TEXT", writer);
            }
            if (parse.GetValue(output) is { } target) AtomicFile.WriteText(target, write);
            else write(context.Output);
            return 0;
        });
        return command;
    }

    // Byte-level tokens are printed as they are stored, in GPT-2's byte characters ('Ġ' for a space).
    private static void WriteByteLevel(IEnumerable<string> lines, ByteLevelBpeTokenizer tokenizer, bool asTokens, int? maxLength, TextWriter writer)
    {
        if (maxLength is int max && max < 1) throw new InvalidInputException($"--max-length {max}: must be at least 1.");
        foreach (string line in lines)
        {
            var ids = tokenizer.Encode(line).Take(maxLength ?? int.MaxValue);
            writer.WriteLine(asTokens ? string.Join(' ', ids.Select(tokenizer.Token)) : string.Join(' ', ids));
        }
    }

    private static void Write(IEnumerable<string> lines, BertTokenizer tokenizer, bool asTokens, bool pairs, int? maxLength, string source, TextWriter writer)
    {
        if (maxLength is int max && max < (pairs ? 3 : 2))
            throw new InvalidInputException($"--max-length {max}: too small to hold [CLS] and [SEP]{(pairs ? " twice" : "")}.");
        int lineNumber = 0;
        foreach (string line in lines)
        {
            lineNumber++;
            EncodedText encoded;
            if (pairs)
            {
                int tab = line.IndexOf('\t');
                if (tab < 0) throw new InvalidInputException($"{source}: line {lineNumber} has no TAB; --pair expects 'first<TAB>second' on every line.");
                encoded = tokenizer.Encode(line[..tab], line[(tab + 1)..], maxLength);
            }
            else encoded = tokenizer.Encode(line, maxLength);
            if (asTokens) writer.WriteLine(string.Join(' ', encoded.Tokens));
            else writer.WriteLine(string.Join(' ', encoded.Ids));
        }
    }
}
