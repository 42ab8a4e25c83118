namespace SharpLM.Training;

/// <summary>Masked-LM loss, perplexity (exp of the loss), masked-LM accuracy and NSP accuracy of an evaluation.</summary>
public sealed record EvaluationMetrics(double MaskedLmLoss, double Perplexity, double MaskedLmAccuracy, double NextSentenceLoss, double NextSentenceAccuracy, long Examples);

/// <summary>One logged training step: what metrics.jsonl holds per line.</summary>
public sealed record TrainingLogRecord(
    int Step, double Loss, double MaskedLmLoss, double NextSentenceLoss, double LearningRate,
    double TokensPerSecond, double ElapsedSeconds, double? EtaSeconds, EvaluationMetrics? Validation);
