namespace SharpLM.Training;

/// <summary>What an evaluation of pretraining data measured (see <see cref="Evaluation"/>).</summary>
/// <param name="MaskedLmLoss">Mean cross-entropy over every masked label.</param>
/// <param name="Perplexity">exp of <paramref name="MaskedLmLoss"/>.</param>
/// <param name="MaskedLmAccuracy">Share of masked labels predicted exactly.</param>
/// <param name="NextSentenceLoss">NSP cross-entropy, or null when the data has no sentence pairs.</param>
/// <param name="NextSentenceAccuracy">NSP accuracy, or null when the data has no sentence pairs.</param>
/// <param name="Examples">Examples evaluated.</param>
/// <param name="UnknownLabelShare">Share of masked labels that are [UNK].</param>
/// <param name="KnownMaskedLmLoss">Mean cross-entropy over the masked labels that are not [UNK].</param>
/// <param name="KnownMaskedLmAccuracy">Accuracy over the masked labels that are not [UNK].</param>
/// <param name="ReplacedTokenLoss">ELECTRA only: the discriminator's binary cross-entropy per real token on the generator's replacements.</param>
/// <param name="ReplacedTokenAccuracy">ELECTRA only: share of real tokens the discriminator calls rightly original or replaced.</param>
/// <param name="ReplacedTokenShare">ELECTRA only: share of real tokens that the generator's samples replaced (the all-original guess's error rate).</param>
/// <param name="NextToken">A causal LM's figures: the masked-LM fields then hold the next-token loss, perplexity and accuracy
/// (every token is a label and none is unknown), so that plots and logs read one set of fields for every objective.</param>
/// <param name="BitsPerByte">Causal LM only: the next-token loss in bits per UTF-8 byte of the text predicted, which compares across tokenizers.</param>
public sealed record EvaluationMetrics(double MaskedLmLoss, double Perplexity, double MaskedLmAccuracy, double? NextSentenceLoss, double? NextSentenceAccuracy, long Examples,
    double UnknownLabelShare, double KnownMaskedLmLoss, double KnownMaskedLmAccuracy,
    double? ReplacedTokenLoss = null, double? ReplacedTokenAccuracy = null, double? ReplacedTokenShare = null, bool NextToken = false, double? BitsPerByte = null);

/// <summary>One logged training step: what metrics.jsonl holds per line.</summary>
/// <param name="Step">Optimizer steps done.</param>
/// <param name="Loss">Masked-LM plus NSP loss of the step (ELECTRA: generator loss plus 50 × discriminator loss).</param>
/// <param name="MaskedLmLoss">Masked-LM part of the loss (ELECTRA: the generator's).</param>
/// <param name="NextSentenceLoss">NSP part of the loss (0 for ELECTRA).</param>
/// <param name="LearningRate">Learning rate of the step.</param>
/// <param name="TokensPerSecond">Training tokens per second since the previous record.</param>
/// <param name="ElapsedSeconds">Seconds since this process started training.</param>
/// <param name="EtaSeconds">Estimated seconds to the end of the run.</param>
/// <param name="Validation">Validation metrics, when the step evaluated.</param>
/// <param name="SkippedSteps">Steps of the whole run (resumes included) whose update was skipped for a non-finite loss or gradient.</param>
/// <param name="RssMegabytes">Resident memory of the process when the record was made, in MiB: flat over a healthy run.</param>
/// <param name="ReplacedTokenLoss">ELECTRA only: the discriminator's loss (unweighted) of the step.</param>
/// <param name="LiveTensors">TorchSharp tensors alive in the process when the record was made: constant over a healthy
/// run, so a count that climbs is a tensor a step forgot to dispose (resident memory also moves with the allocators).</param>
/// <param name="AllreduceSeconds">Data-parallel runs only: seconds this process has spent summing gradients over the ranks
/// since it started training (flattening, MPI_Allreduce, copying back); against <paramref name="ElapsedSeconds"/>, the share of communication.</param>
public sealed record TrainingLogRecord(
    int Step, double Loss, double MaskedLmLoss, double NextSentenceLoss, double LearningRate,
    double TokensPerSecond, double ElapsedSeconds, double? EtaSeconds, EvaluationMetrics? Validation, int SkippedSteps = 0, double RssMegabytes = 0,
    double? ReplacedTokenLoss = null, long LiveTensors = 0, double? AllreduceSeconds = null);

/// <summary>What a training step costs on this machine (see <see cref="PretrainingTrainer.MeasureThroughput"/>).</summary>
/// <param name="SecondsPerStep">Wall-clock seconds per optimizer step.</param>
/// <param name="TokensPerSecond">Real (non-padding) training tokens per second.</param>
/// <param name="TokensPerStep">Real training tokens per optimizer step.</param>
/// <param name="PeakRssMegabytes">Peak resident memory of the process so far, in MiB.</param>
public sealed record ThroughputMeasurement(double SecondsPerStep, double TokensPerSecond, double TokensPerStep, double PeakRssMegabytes);
