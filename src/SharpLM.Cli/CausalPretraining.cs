using SharpLM.Data;
using SharpLM.Distributed;
using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Text;
using SharpLM.Training;

namespace SharpLM.Cli;

/// <summary>
/// <c>sharplm pretrain --objective causal</c>: a Llama-style decoder trained on next-token prediction. Given a corpus it
/// trains a byte-level BPE (or takes --tokenizer) and prepares OUTPUT/data as <c>data prepare --objective causal</c>
/// does; given no data, the embedded English corpus. The run itself (checkpoints, resume, time budget, progress) is
/// the masked-LM one's.
/// </summary>
internal sealed class CausalPretraining(string folder, ProcessGroup group, string[] corpusPaths, bool defaultCorpus, string? dataFolder, string? tokenizerPath,
    string? configPath, string preset, int blockSize, string textField, CommandContext context)
{
    /// <summary>Vocabulary size of a tokenizer trained for the run: the BERT default's for the embedded corpus, Llama's otherwise.</summary>
    private int VocabSize => defaultCorpus ? 8192 : 32000;

    /// <summary>Prepares the data if needed, builds the model and trains; returns the exit code.</summary>
    public int Run(PretrainingOptions options, int threadCount, bool resume, string? tensorboard, bool dryRun, CancellationToken cancellation)
    {
        if (blockSize < 2) throw new InvalidInputException($"--block-size {blockSize}: must be at least 2.");
        if (group.IsRoot) Directory.CreateDirectory(folder);
        string data = dataFolder ?? Path.Combine(folder, "data");
        var given = tokenizerPath is null ? null : ByteLevelBpeFiles.Load(tokenizerPath);
        if (dataFolder is null)
        {
            if (group.IsRoot && File.Exists(Path.Combine(data, PretrainingDataManifest.FileName)))
                throw new InvalidInputException($"{data}: holds masked-LM data from an earlier run in {folder}; give causal pretraining another --output.");
            if (group.IsRoot && !CausalDataManifest.IsCausalFolder(data))
            {
                var trainedOrGiven = given ?? VocabCommand.TrainByteLevel(corpusPaths, VocabSize, 2, context, textField);
                if (Directory.Exists(data)) Directory.Delete(data, recursive: true); // an unfinished preparation
                var manifest = new CausalDataWriter(trainedOrGiven, defaultCorpus ? 0.1 : 0.01, options.Seed).Write(corpusPaths, data, textField);
                context.Error.WriteLine($"prepared {manifest.TrainTokens:N0} training and {manifest.ValidationTokens:N0} validation tokens " +
                    $"({manifest.TrainDocuments:N0} and {manifest.ValidationDocuments:N0} documents) in {data}");
            }
            group.Barrier();
        }
        var tokenizer = ByteLevelBpeFiles.Load(data);
        if (given is not null && given.Hash() != tokenizer.Hash())
            throw new InvalidInputException($"{data}: prepared with another tokenizer than {tokenizerPath}; prepare it again, or leave out --tokenizer.");
        var dataManifest = CausalDataManifest.Load(data);
        var config = configPath is not null ? LlamaConfig.Load(configPath)
            : LlamaConfig.Preset(preset, tokenizer.Count) with { BosTokenId = dataManifest.EndOfTextId, EosTokenId = dataManifest.EndOfTextId };
        if (config.VocabSize < tokenizer.Count)
            throw new InvalidInputException($"{configPath}: vocab_size {config.VocabSize} is smaller than the tokenizer's {tokenizer.Count} tokens.");
        if (blockSize > config.MaxPositionEmbeddings)
            throw new InvalidInputException($"--block-size {blockSize} is longer than the model's max_position_embeddings ({config.MaxPositionEmbeddings}).");

        using var train = new CausalTokenWindows(data, "train", tokenizer, blockSize, options.Seed);
        if (train.Count == 0) throw new InvalidInputException($"{data}: the training stream has {dataManifest.TrainTokens} tokens, fewer than one window of --block-size {blockSize}.");
        using var validation = new CausalTokenWindows(data, "validation", tokenizer, blockSize, options.Seed);
        if (validation.Count == 0)
            context.Error.WriteLine($"warning: {data} has no validation window of {blockSize} tokens, so no validation figures will be reported.");
        TorchSharp.torch.random.manual_seed(options.Seed);
        var model = new LlamaForCausalLM(config);
        using var _ = model;
        model.Initialize();
        var objective = new CausalLmObjective(model, tokenizer);
        var trainer = new PretrainingTrainer(objective, train, validation, options, vocabulary: null, lowercase: false, folder, group);
        if (dryRun)
        {
            context.Output.WriteLine(PretrainCommand.DryRun(trainer, model, config.NumHiddenLayers, config.HiddenSize, options, train.Count, threadCount, context));
            return 0;
        }
        string description = $"a causal Llama {config.NumHiddenLayers}x{config.HiddenSize} ({model.parameters().Sum(p => p.numel()):N0} parameters, " +
            $"vocabulary {tokenizer.Count:N0}) on {train.Count:N0} windows of {blockSize} tokens";
        return PretrainCommand.Train(trainer, options, folder, group, threadCount, description, resume, tensorboard, context, cancellation, nextToken: true);
    }
}
