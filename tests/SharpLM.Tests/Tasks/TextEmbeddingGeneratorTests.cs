using Microsoft.Extensions.AI;
using SharpLM.Tasks.Embeddings;
using SharpLM.Tests.Interop;
using SharpLM.Text;

namespace SharpLM.Tests.Tasks;

/// <summary>The embedding pipeline as Microsoft.Extensions.AI's IEmbeddingGenerator, on the real all-MiniLM-L6-v2.</summary>
public class TextEmbeddingGeneratorTests
{
    // Real sentences on unrelated subjects; each query below shares almost no words with its answer.
    private static readonly string[] Documents =
    [
        "The Federal Reserve raised interest rates to slow inflation.",
        "The striker scored twice in the second half and the home team won the cup.",
        "Preheat the oven, then bake the bread for forty minutes until the crust is brown.",
        "The telescope photographed a galaxy billions of light years away.",
        "Doctors recommend vaccination before the flu season begins.",
        "The new smartphone has a faster processor and a better camera.",
        "Heavy rain and strong winds are expected along the coast tomorrow.",
        "The court ruled that the law violated the constitution.",
    ];

    private static readonly (string Query, int Answer)[] Queries =
    [
        ("How do central banks fight rising prices?", 0),
        ("Who won the football match?", 1),
        ("a recipe for baking", 2),
        ("astronomy and distant stars", 3),
        ("protecting yourself from illness with shots", 4),
        ("mobile phone review", 5),
        ("What is the weather forecast?", 6),
        ("a judge's decision about legislation", 7),
    ];

    [Fact]
    public async Task Semantic_search_through_the_interface_finds_every_answer()
    {
        using IEmbeddingGenerator<string, Embedding<float>> generator = TextEmbeddingGenerator.Load(MiniLmOnnx.ModelDirectory);
        var documents = await generator.GenerateAsync(Documents);
        Assert.Equal(Documents.Length, documents.Count);
        Assert.All(documents, d => Assert.Equal(384, d.Vector.Length));
        Assert.All(documents, d => Assert.Equal(1.0, Math.Sqrt(d.Vector.Span.ToArray().Sum(x => (double)x * x)), 5));

        foreach (var (query, answer) in Queries)
        {
            var q = await generator.GenerateVectorAsync(query);
            var scores = documents.Select(d => Dot(q.Span, d.Vector.Span)).ToList();
            int best = scores.IndexOf(scores.Max());
            Assert.True(best == answer, $"'{query}' found '{Documents[best]}' ({scores[best]:F3}), not '{Documents[answer]}' ({scores[answer]:F3})");
        }
        var metadata = generator.GetService<EmbeddingGeneratorMetadata>();
        Assert.Equal("SharpLM", metadata!.ProviderName);
        Assert.Equal(384, metadata.DefaultModelDimensions);
    }

    [Fact]
    public void Mean_pooling_matches_ONNX_Runtime_and_a_padded_batch_matches_one_text_at_a_time()
    {
        using var embedder = TextEmbedder.Load(MiniLmOnnx.ModelDirectory);
        string[] texts = ["A short one.", "A longer sentence, which makes the short one padded in the batch."];
        var batched = embedder.Embed(texts, EmbeddingPooling.Mean);
        var tokenizer = BertTokenizer.Load(TestData.BertBaseUncasedVocab);
        for (int i = 0; i < texts.Length; i++)
        {
            var alone = embedder.Embed([texts[i]], EmbeddingPooling.Mean)[0];
            // Another GEMM shape sums in another order: equal within float32 rounding, not bit for bit.
            Assert.All(Enumerable.Range(0, 384), d => Assert.True(Math.Abs(alone[d] - batched[i][d]) <= 1e-4));
            var encoded = tokenizer.Encode(texts[i]);
            int length = encoded.Length;
            var (hidden, _) = MiniLmOnnx.RunOnnx(encoded.Ids.Select(x => (long)x).ToArray(), new long[length], Enumerable.Repeat(1L, length).ToArray(), 1, length);
            Assert.All(Enumerable.Range(0, 384), d => Assert.True(Math.Abs(batched[i][d] - Enumerable.Range(0, length).Average(t => hidden[t * 384 + d])) <= 1e-4));
        }
    }

    [Fact]
    public void Bfloat16_products_keep_the_embeddings_within_a_cosine_of_0_9995()
    {
        using var embedder = TextEmbedder.Load(MiniLmOnnx.ModelDirectory);
        string[] texts = [.. Documents, .. Queries.Select(q => q.Query)];
        var full = embedder.Embed(texts, EmbeddingPooling.Mean, normalize: true);
        embedder.ComputeType = TorchSharp.torch.ScalarType.BFloat16;
        var reduced = embedder.Embed(texts, EmbeddingPooling.Mean, normalize: true);
        for (int i = 0; i < texts.Length; i++)
        {
            float cosine = Dot(full[i], reduced[i]);
            Assert.True(cosine >= 0.9995f, $"'{texts[i]}': cosine {cosine}");
        }
        // The compute type was applied: the vectors moved.
        Assert.Contains(Enumerable.Range(0, texts.Length), i => !full[i].SequenceEqual(reduced[i]));
    }

    [Fact]
    public async Task Asking_for_another_length_is_refused()
    {
        using var generator = TextEmbeddingGenerator.Load(MiniLmOnnx.ModelDirectory);
        await Assert.ThrowsAsync<ArgumentException>(() => generator.GenerateAsync(["x"], new EmbeddingGenerationOptions { Dimensions = 128 }));
    }

    private static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }
}
