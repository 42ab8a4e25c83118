using System.CommandLine;
using System.Diagnostics;
using SharpLM.Data;
using SharpLM.Interop;
using SharpLM.Text;

namespace SharpLM.Cli;

/// <summary><c>sharplm data prepare</c>: a corpus to pretraining shards and their manifest (and the <c>data</c> verb, with <see cref="DataCleanCommand"/>).</summary>
public static class DataCommand
{
    /// <summary>Creates the <c>data</c> verb and its <c>prepare</c> and <c>clean</c> sub-verbs.</summary>
    public static Command Create(CommandContext context)
    {
        var defaults = new PretrainingDataOptions();
        var corpus = new Option<string[]>("--corpus") { Description = $"Corpus files or folders: {TextFieldOption.Formats}.", Required = true, AllowMultipleArgumentsPerToken = true };
        var vocab = new Option<string?>("--vocab") { Description = "vocab.txt (or a model folder holding one); masked-LM data." };
        var objective = new Option<string>("--objective") { Description = "mlm (masked examples for BERT and ELECTRA) or causal (token streams for next-token pretraining).", DefaultValueFactory = _ => "mlm" };
        var tokenizerPath = new Option<string?>("--tokenizer") { Description = "--objective causal: the byte-level BPE tokenizer.json (vocab train --type bpe)." };
        var output = new Option<string>("--output") { Description = "Folder to create for the shards and manifest.json.", Required = true };
        var cased = new Option<bool>("--cased") { Description = "Keep case and accents (default: lowercase and strip accents)." };
        var maxSeqLength = new Option<int>("--max-seq-length") { DefaultValueFactory = _ => defaults.MaxSeqLength, Description = "Tokens per example." };
        var dupeFactor = new Option<int>("--dupe-factor") { DefaultValueFactory = _ => defaults.DupeFactor, Description = "Times each document is cut, with other pairs and masks." };
        var shortSeqProb = new Option<double>("--short-seq-prob") { DefaultValueFactory = _ => defaults.ShortSeqProb, Description = "Probability of a shorter example." };
        var maskedLmProb = new Option<double>("--masked-lm-prob") { DefaultValueFactory = _ => defaults.MaskedLmProb, Description = "Share of tokens to predict." };
        var maxPredictions = new Option<int>("--max-predictions") { DefaultValueFactory = _ => defaults.MaxPredictions, Description = "Most masked positions per example." };
        var wholeWord = new Option<bool>("--whole-word-mask") { Description = "Mask every piece of a chosen word." };
        var noNsp = new Option<bool>("--no-nsp") { Description = "Single segments packed to the full length across sentences, no next-sentence labels." };
        var maskTokenShare = new Option<double>("--mask-token-share") { DefaultValueFactory = _ => defaults.MaskTokenShare, Description = "Share of predicted positions shown as [MASK] (0.8: BERT's 80/10/10; 1: all [MASK])." };
        var validation = new Option<double>("--validation-fraction") { DefaultValueFactory = _ => defaults.ValidationFraction, Description = "Share of documents held out." };
        var seed = new Option<int>("--seed") { DefaultValueFactory = _ => defaults.Seed, Description = "Seed of every random choice." };
        var buffer = new Option<int>("--buffer-tokens") { DefaultValueFactory = _ => defaults.BufferTokens, Description = "Tokens held in memory at once (pairs and shuffles happen within)." };
        var textField = TextFieldOption.Create();
        var prepare = new Command("prepare", "Cut a corpus into masked NSP examples (Google's create_pretraining_data.py semantics) in memory-mappable shards, or with --objective causal into token streams (train.bin, validation.bin) with <|endoftext|> between documents.")
        {
            corpus, vocab, objective, tokenizerPath, output, cased, maxSeqLength, dupeFactor, shortSeqProb, maskedLmProb, maxPredictions, wholeWord, noNsp, maskTokenShare, validation, seed, buffer, textField,
        };
        prepare.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            string folder = parse.GetValue(output)!;
            switch (parse.GetValue(objective))
            {
                case "mlm":
                    if (parse.GetValue(vocab) is null) throw new InvalidInputException("data prepare: give --vocab vocab.txt (or --objective causal with --tokenizer).");
                    if (parse.GetValue(tokenizerPath) is not null) throw new InvalidInputException("--tokenizer is for --objective causal; masked-LM data takes --vocab.");
                    break;
                case "causal":
                    string path = parse.GetValue(tokenizerPath) ?? throw new InvalidInputException("data prepare --objective causal: give --tokenizer tokenizer.json (sharplm vocab train --type bpe makes one).");
                    if (parse.GetValue(vocab) is not null) throw new InvalidInputException("--vocab is for masked-LM data; --objective causal takes --tokenizer.");
                    var causal = new CausalDataWriter(ByteLevelBpeFiles.Load(path), parse.GetValue(validation), parse.GetValue(seed));
                    causal.Progress += (documents, tokens) => context.Error.WriteLine($"documents: {documents:N0}, tokens: {tokens:N0}, {clock.Elapsed.TotalSeconds:F0} s");
                    var written = causal.Write(parse.GetValue(corpus)!, folder, parse.GetValue(textField)!);
                    context.Output.WriteLine($"{folder}: {written.TrainTokens:N0} training tokens from {written.TrainDocuments:N0} documents, " +
                        $"{written.ValidationTokens:N0} validation tokens from {written.ValidationDocuments:N0} documents");
                    return 0;
                default: throw new InvalidInputException($"--objective {parse.GetValue(objective)}: use mlm or causal.");
            }
            var options = new PretrainingDataOptions(parse.GetValue(maxSeqLength), parse.GetValue(dupeFactor), parse.GetValue(shortSeqProb),
                parse.GetValue(maskedLmProb), parse.GetValue(maxPredictions), parse.GetValue(wholeWord), !parse.GetValue(noNsp),
                parse.GetValue(validation), parse.GetValue(seed), parse.GetValue(buffer), MaskTokenShare: parse.GetValue(maskTokenShare));
            var tokenizer = new BertTokenizer(Vocabulary.Load(parse.GetValue(vocab)!), lowercase: !parse.GetValue(cased));
            var writer = new PretrainingDataWriter(tokenizer, options);
            writer.Progress += (documents, examples) => context.Error.WriteLine($"documents: {documents:N0}, examples: {examples:N0}, {clock.Elapsed.TotalSeconds:F0} s");
            var manifest = writer.Write(parse.GetValue(corpus)!, folder, parse.GetValue(textField)!);
            context.Output.WriteLine($"{folder}: {manifest.TrainExamples:N0} training examples from {manifest.TrainDocuments:N0} documents, " +
                $"{manifest.ValidationExamples:N0} validation examples from {manifest.ValidationDocuments:N0} documents, {manifest.Shards.Count} shard(s); " +
                $"{manifest.DuplicateLinesDropped:N0} duplicate lines dropped");
            return 0;
        });
        return new Command("data", "Pretraining data tools.") { prepare, DataCleanCommand.Create(context) };
    }
}
