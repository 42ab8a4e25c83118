using SharpLM.Bench;

// Benchmarks, never run by the test suite. See docs/benchmarks.md for the commands and figures.
return args.FirstOrDefault() switch
{
    "tokenize" => TokenizeBenchmark.Run(args[1..]),
    "fertility" => FertilityBenchmark.Run(args[1..]),
    "stages" => StageProfile.Run(args[1..]),
    "minilm" when args.Length == 2 => WriteMiniLm(args[1]),
    "pretrain-vs-pytorch" => PretrainingStepBenchmark.Compare(args[1..]),
    "bert-vocab" when args.Length == 2 => PrintPath(BertBaseUncased.WriteVocab(Directory.CreateDirectory(args[1]).FullName)),
    "pretrain-step" when args.Length is 8 or 9 => PretrainingStepBenchmark.Step(args[1..]),
    "causal-vs-pytorch" => CausalStepBenchmark.Compare(args[1..]),
    "causal-step" when args.Length == 8 => CausalStepBenchmark.Step(args[1..]),
    "gguf" when args.Length >= 3 => GgufBenchmark.Run(args[1..]),
    "random-init" when args.Length == 3 => WriteRandomInit(args[1], args[2]),
    "onnx" when args.Length >= 3 => OnnxBenchmark.Run(args[1..]),
    "clean-corpus" when args.Length >= 3 => CleaningBenchmark.Corpus(args[1..]),
    "near-dup" when args.Length >= 2 => CleaningBenchmark.NearDuplicates(args[1..]),
    "serve-load" when args.Length >= 4 => ServeLoadBenchmark.Run(args[1..]),
    "allreduce" => RunThenLeaveMpi(() => AllreduceBenchmark.Run(args[1..])),
    _ => Usage(),
};

// all-MiniLM-L6-v2 as a Hugging Face folder, the imported model that docs/finetuning.md fine-tunes.
static int WriteMiniLm(string folder)
{
    Directory.CreateDirectory(folder);
    SharpLM.Tests.Interop.MiniLmOnnx.Save(folder, BertBaseUncased.WriteVocab(Path.GetTempPath()));
    Console.WriteLine($"all-MiniLM-L6-v2 -> {folder}");
    return 0;
}

// The baseline of the transfer check: a model folder like a pretrained one (config, vocabulary) whose
// weights are Hugging Face's initialisation, seeded (an ELECTRA discriminator for an ELECTRA folder).
static int WriteRandomInit(string like, string folder)
{
    var config = SharpLM.Model.BertConfig.Load(like);
    TorchSharp.torch.random.manual_seed(1);
    using TorchSharp.torch.nn.Module model = config.IsElectra ? new SharpLM.Model.ElectraForPreTraining(config) : new SharpLM.Model.BertForPreTraining(config);
    var tokenizer = SharpLM.Interop.HuggingFaceCheckpoint.LoadTokenizer(like);
    SharpLM.Interop.HuggingFaceCheckpoint.Save(model, config, tokenizer.Vocabulary, folder, tokenizer.Lowercase);
    Console.WriteLine($"random initialisation of {like} -> {folder}");
    return 0;
}

// A process that joined MPI leaves it before exiting, or mpirun reports an abnormal end.
static int RunThenLeaveMpi(Func<int> benchmark)
{
    try { return benchmark(); }
    finally { SharpLM.Distributed.ProcessGroup.Leave(); }
}

static int PrintPath(string path)
{
    Console.WriteLine(path);
    return 0;
}

static int Usage()
{
    Console.Error.WriteLine("usage: SharpLM.Bench tokenize [--rounds N] TEXT_FILE...\n       SharpLM.Bench stages TEXT_FILE...\n       SharpLM.Bench fertility --vocab VOCAB [--vocab VOCAB...] HELD_OUT_FILE...\n       SharpLM.Bench minilm OUTPUT_FOLDER\n       SharpLM.Bench bert-vocab OUTPUT_FOLDER\n       SharpLM.Bench random-init LIKE_MODEL_FOLDER OUTPUT_FOLDER\n       SharpLM.Bench clean-corpus OUTPUT.jsonl [--min-mb 100] SOURCE...\n       SharpLM.Bench near-dup [--originals 3000] [--sample 3000] [--num-perm 256] [--threshold 0.8] SOURCE...\n       SharpLM.Bench onnx MODEL_FOLDER TEXT_FILE [--threads 1,2] [--rounds 5] [--batch 8] [--length 128] [--work DIR]\n       SharpLM.Bench serve-load URL TEXT_FILE VOCAB --pid SERVER_PID [--clients 1,8,32,32] [--warmup 2000] [--requests 640] [--seconds 60] [--max-tokens 64]\n       mpirun -np 2 SharpLM.Bench allreduce [--preset mini] [--vocab 30522] [--rounds 20] [--buckets-mb 1,4,25,100]\n       SharpLM.Bench pretrain-vs-pytorch [--preset mini] [--batch-size 32] [--seq 128] [--rounds 3] [--steps 8] [--warmup 2] [--threads N] [--work DIR] [--vocab VOCAB] [--sharplm-only]\n       SharpLM.Bench gguf CAUSAL_MODEL CAUSAL_DATA [--windows 40] [--block-size 128] [--work DIR]\n       SharpLM.Bench causal-vs-pytorch [--preset mini] [--batch-size 16] [--seq 256] [--rounds 3] [--steps 6] [--warmup 2] [--threads N] [--work DIR]");
    return 2;
}
