using TorchSharp;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace SharpLM.Model;

/// <summary>The parts of an ELECTRA pretraining loss, summed over a micro-batch and divided by the step's counts.</summary>
/// <param name="Total">Generator loss plus the weighted discriminator loss: what is back-propagated.</param>
/// <param name="Generator">The generator's masked-LM cross-entropy.</param>
/// <param name="Discriminator">The discriminator's binary cross-entropy over every real token (unweighted).</param>
public sealed record ElectraLoss(Tensor Total, Tensor Generator, Tensor Discriminator);

/// <summary>
/// ELECTRA's replaced-token-detection pretraining (Clark et al., 2020): a small masked-LM generator
/// fills the masked positions with tokens sampled from its predictions, and the discriminator learns,
/// on every token, whether it is the original or a replacement. The generator embeds with the
/// discriminator's embeddings (word, position, segment and their LayerNorm), and its output projection
/// is the same word matrix. Loss: generator MLM + <see cref="DiscriminatorWeight"/> × discriminator
/// loss; no gradient flows through the sampling.
/// </summary>
public sealed class ElectraPretraining : Module<Tensor, Tensor, Tensor, Tensor>
{
    private readonly ElectraForPreTraining discriminator;
    private readonly ElectraForMaskedLM generator;

    /// <summary>The discriminator loss weight of the ELECTRA paper (λ = 50).</summary>
    public const double DiscriminatorWeight = 50;

    /// <summary>
    /// Creates the pair from the discriminator's config (model_type electra) and the generator's (same
    /// vocabulary, embedding width and depth; see <see cref="GeneratorConfig"/>).
    /// </summary>
    public ElectraPretraining(BertConfig discriminatorConfig, BertConfig generatorConfig) : base(nameof(ElectraPretraining))
    {
        if (generatorConfig.EmbeddingSize != discriminatorConfig.EmbeddingSize || generatorConfig.VocabSize != discriminatorConfig.VocabSize)
            throw new InvalidInputException("ELECTRA: the generator shares the discriminator's embeddings, so it needs the same vocab_size and embedding_size.");
        discriminator = new ElectraForPreTraining(discriminatorConfig);
        generator = new ElectraForMaskedLM(generatorConfig, discriminator.Electra.Embeddings);
        RegisterComponents();
    }

    /// <summary>The discriminator, the model that is fine-tuned afterwards.</summary>
    public ElectraForPreTraining Discriminator => discriminator;

    /// <summary>The generator, a masked LM.</summary>
    public ElectraForMaskedLM Generator => generator;

    /// <summary>
    /// The generator of a discriminator config: <paramref name="widthFraction"/> of its hidden size (the
    /// paper finds 1/4 to 1/2 best), heads of 64 (at least one), feed-forward 4x, the same depth,
    /// vocabulary, embedding width and SharpLM options.
    /// </summary>
    public static BertConfig GeneratorConfig(BertConfig discriminatorConfig, double widthFraction = 0.25)
    {
        int hidden = Math.Max(16, (int)Math.Round(discriminatorConfig.HiddenSize * widthFraction));
        int heads = Math.Max(1, hidden / 64);
        while (hidden % heads != 0) heads--;
        return discriminatorConfig with
        {
            HiddenSize = hidden,
            NumAttentionHeads = heads,
            IntermediateSize = 4 * hidden,
            EmbeddingWidth = discriminatorConfig.EmbeddingSize,
            Architecture = "ElectraForMaskedLM",
            Labels = [],
        };
    }

    /// <summary>
    /// The losses of one micro-batch: <paramref name="inputIds"/> carry the masks, <paramref name="maskedPositions"/>
    /// index them in the flattened [batch × length] grid and <paramref name="maskedLabels"/> hold the
    /// original ids. The generator's cross-entropy is summed and divided by <paramref name="maskedInStep"/>,
    /// the discriminator's by <paramref name="tokensInStep"/> (real tokens): accumulating micro-batches
    /// changes nothing. Also returns the discriminator's input and labels, for evaluation.
    /// </summary>
    public (ElectraLoss Loss, Tensor Corrupted, Tensor Replaced, Tensor DiscriminatorLogits) Loss(
        Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask, Tensor maskedPositions, Tensor maskedLabels, long maskedInStep, long tokensInStep)
    {
        using var generatorLogits = generator.MaskedLmLogits(inputIds, tokenTypeIds, attentionMask, maskedPositions);
        var generatorLoss = functional.cross_entropy(generatorLogits, maskedLabels, reduction: Reduction.Sum) / Math.Max(maskedInStep, 1);
        Tensor corrupted, replaced;
        var dtype = discriminator.Electra.Embeddings.WordEmbeddings.dtype;
        using (no_grad())
        {
            // Samples from the generator's distribution (temperature 1), drawn from torch's generator,
            // which the trainer seeds per step: a resumed run draws the same replacements.
            using var probabilities = generatorLogits.detach().softmax(-1);
            using var drawn = probabilities.multinomial(1);
            using var samples = drawn.squeeze(1);
            using var flatIds = inputIds.reshape(-1);
            using var flatCorrupted = flatIds.index_copy(0, maskedPositions, samples);
            corrupted = flatCorrupted.reshape(inputIds.shape);
            // A sample equal to the original counts as original, as in the paper.
            using var differs = samples.ne(maskedLabels).to(dtype);
            using var flatReplaced = zeros(flatIds.shape[0], dtype: dtype, device: inputIds.device).index_copy(0, maskedPositions, differs);
            replaced = flatReplaced.reshape(inputIds.shape);
        }
        var logits = discriminator.call(corrupted, tokenTypeIds, attentionMask);
        using var perToken = functional.binary_cross_entropy_with_logits(logits, replaced, reduction: Reduction.None);
        using var real = attentionMask.to(dtype);
        using var onReal = perToken * real;
        var discriminatorLoss = onReal.sum() / Math.Max(tokensInStep, 1);
        var total = generatorLoss + DiscriminatorWeight * discriminatorLoss;
        return (new ElectraLoss(total, generatorLoss, discriminatorLoss), corrupted, replaced, logits);
    }

    /// <summary>The discriminator's replaced-token logits [batch, length].</summary>
    public override Tensor forward(Tensor inputIds, Tensor tokenTypeIds, Tensor attentionMask) => discriminator.call(inputIds, tokenTypeIds, attentionMask);
}
