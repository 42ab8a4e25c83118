using System.CommandLine;
using System.Diagnostics;
using SharpLM.Data;
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
        var vocab = new Option<string>("--vocab") { Description = "vocab.txt (or a model folder holding one).", Required = true };
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
        var prepare = new Command("prepare", "Cut a corpus into masked NSP examples (Google's create_pretraining_data.py semantics) in memory-mappable shards.")
        {
            corpus, vocab, output, cased, maxSeqLength, dupeFactor, shortSeqProb, maskedLmProb, maxPredictions, wholeWord, noNsp, maskTokenShare, validation, seed, buffer, textField,
        };
        prepare.SetAction(parse =>
        {
            var options = new PretrainingDataOptions(parse.GetValue(maxSeqLength), parse.GetValue(dupeFactor), parse.GetValue(shortSeqProb),
                parse.GetValue(maskedLmProb), parse.GetValue(maxPredictions), parse.GetValue(wholeWord), !parse.GetValue(noNsp),
                parse.GetValue(validation), parse.GetValue(seed), parse.GetValue(buffer), MaskTokenShare: parse.GetValue(maskTokenShare));
            var tokenizer = new BertTokenizer(Vocabulary.Load(parse.GetValue(vocab)!), lowercase: !parse.GetValue(cased));
            var writer = new PretrainingDataWriter(tokenizer, options);
            var clock = Stopwatch.StartNew();
            writer.Progress += (documents, examples) => context.Error.WriteLine($"documents: {documents:N0}, examples: {examples:N0}, {clock.Elapsed.TotalSeconds:F0} s");
            string folder = parse.GetValue(output)!;
            var manifest = writer.Write(parse.GetValue(corpus)!, folder, parse.GetValue(textField)!);
            context.Output.WriteLine($"{folder}: {manifest.TrainExamples:N0} training examples from {manifest.TrainDocuments:N0} documents, " +
                $"{manifest.ValidationExamples:N0} validation examples from {manifest.ValidationDocuments:N0} documents, {manifest.Shards.Count} shard(s); " +
                $"{manifest.DuplicateLinesDropped:N0} duplicate lines dropped");
            return 0;
        });
        return new Command("data", "Pretraining data tools.") { prepare, DataCleanCommand.Create(context) };
    }
}
