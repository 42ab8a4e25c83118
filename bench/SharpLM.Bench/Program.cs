using SharpLM.Bench;

// Benchmarks, never run by the test suite. See docs/benchmarks.md for the commands and figures.
return args.FirstOrDefault() switch
{
    "tokenize" => TokenizeBenchmark.Run(args[1..]),
    "fertility" => FertilityBenchmark.Run(args[1..]),
    "stages" => StageProfile.Run(args[1..]),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: SharpLM.Bench tokenize [--rounds N] TEXT_FILE...\n       SharpLM.Bench stages TEXT_FILE...\n       SharpLM.Bench fertility --vocab VOCAB [--vocab VOCAB...] HELD_OUT_FILE...");
    return 2;
}
