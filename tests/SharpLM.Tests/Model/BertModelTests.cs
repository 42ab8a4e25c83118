using SharpLM.Model;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class BertModelTests
{
    [Fact]
    public void Parameter_names_are_Hugging_Face_BertForPreTraining_names()
    {
        using var model = new BertForPreTraining(BertConfig.Preset("tiny", vocabSize: 100));
        var names = model.named_parameters().Select(p => p.name).ToList();
        var expected = new List<string>
        {
            "bert.embeddings.word_embeddings.weight", "bert.embeddings.position_embeddings.weight",
            "bert.embeddings.token_type_embeddings.weight", "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias",
        };
        for (int layer = 0; layer < 2; layer++)
        {
            string p = $"bert.encoder.layer.{layer}.";
            foreach (string linear in new[] { "attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense" })
                expected.AddRange([p + linear + ".weight", p + linear + ".bias"]);
            expected.AddRange([p + "attention.output.LayerNorm.weight", p + "attention.output.LayerNorm.bias",
                p + "intermediate.dense.weight", p + "intermediate.dense.bias",
                p + "output.dense.weight", p + "output.dense.bias", p + "output.LayerNorm.weight", p + "output.LayerNorm.bias"]);
        }
        expected.AddRange(["bert.pooler.dense.weight", "bert.pooler.dense.bias",
            "cls.predictions.bias", "cls.predictions.transform.dense.weight", "cls.predictions.transform.dense.bias",
            "cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.bias",
            "cls.seq_relationship.weight", "cls.seq_relationship.bias"]);
        Assert.Equal(expected.Order(StringComparer.Ordinal), names.Order(StringComparer.Ordinal));
        Assert.Empty(model.named_buffers());
    }

    [Fact]
    public void Initialisation_follows_Hugging_Face()
    {
        random.manual_seed(7);
        var config = BertConfig.Preset("mini", vocabSize: 2000) with { PadTokenId = 0 };
        using var model = new BertForPreTraining(config);
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var query = parameters["bert.encoder.layer.0.attention.self.query.weight"];
        Assert.InRange(query.std().item<float>(), 0.019f, 0.021f);
        Assert.InRange(query.mean().item<float>(), -0.001f, 0.001f);
        Assert.Equal(0f, parameters["bert.encoder.layer.0.attention.self.query.bias"].abs().sum().item<float>());
        Assert.Equal(0f, parameters["bert.embeddings.word_embeddings.weight"][0].abs().sum().item<float>());
        Assert.True(parameters["bert.embeddings.word_embeddings.weight"][1].abs().sum().item<float>() > 0);
        Assert.Equal(1f, parameters["bert.encoder.layer.3.output.LayerNorm.weight"].min().item<float>());
    }

    [Fact]
    public void The_masked_LM_decoder_is_the_word_embedding_matrix()
    {
        using var model = new BertForPreTraining(BertConfig.Preset("tiny", vocabSize: 50) with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 });
        using var ids = tensor(new long[] { 2, 7, 9, 3, 0 }).unsqueeze(0);
        using var types = zeros_like(ids);
        using var mask = tensor(new long[] { 1, 1, 1, 1, 0 }).unsqueeze(0);
        var (mlm, nsp) = model.call(ids, types, mask);
        Assert.Equal(new long[] { 1, 5, 50 }, mlm.shape);
        Assert.Equal(new long[] { 1, 2 }, nsp.shape);
        mlm.sum().backward();
        // The decoder's gradient lands on the embedding matrix: rows of tokens never input still get one.
        var grad = model.Bert.Embeddings.WordEmbeddings.grad!;
        Assert.True(grad[40].abs().sum().item<float>() > 0);
    }

    [Fact]
    public void Padding_does_not_change_the_hidden_states_of_real_tokens()
    {
        random.manual_seed(1);
        using var model = new BertModel(BertConfig.Preset("tiny", vocabSize: 50) with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 });
        model.eval();
        using var shortIds = tensor(new long[] { 2, 7, 9, 3 }).unsqueeze(0);
        using var paddedIds = tensor(new long[] { 2, 7, 9, 3, 0, 0 }).unsqueeze(0);
        var (shortOut, shortPooled) = model.call(shortIds, zeros_like(shortIds), ones_like(shortIds));
        var (paddedOut, paddedPooled) = model.call(paddedIds, zeros_like(paddedIds), tensor(new long[] { 1, 1, 1, 1, 0, 0 }).unsqueeze(0));
        Assert.True(allclose(shortOut, paddedOut.narrow(1, 0, 4), rtol: 0, atol: 1e-6));
        Assert.True(allclose(shortPooled, paddedPooled, rtol: 0, atol: 1e-6));
    }

    [Theory]
    [InlineData(768, 5, "not divisible by num_attention_heads 5")]
    [InlineData(0, 1, "hidden_size is 0")]
    public void Invalid_configs_fail_with_a_clear_message(int hidden, int heads, string message)
    {
        var config = new BertConfig { HiddenSize = hidden, NumAttentionHeads = heads };
        Assert.Contains(message, Assert.Throws<InvalidInputException>(() => config.Validate("config.json")).Message);
        Assert.Contains("num_hidden_layers is 0", Assert.Throws<InvalidInputException>(() => new BertConfig { NumHiddenLayers = 0 }.Validate()).Message);
        Assert.Contains("hidden_act 'gelu_fast'", Assert.Throws<InvalidInputException>(() => new BertConfig { HiddenAct = "gelu_fast" }.Validate()).Message);
        Assert.Contains("position_embedding_type 'rotary'", Assert.Throws<InvalidInputException>(() => new BertConfig { PositionEmbeddingType = "rotary" }.Validate()).Message);
    }

    [Fact]
    public void Relative_positions_add_Hugging_Face_distance_embeddings_and_make_the_model_blind_to_absolute_position()
    {
        var config = BertConfig.Preset("tiny", vocabSize: 100) with { MaxPositionEmbeddings = 32, PositionEmbeddingType = "relative_key", HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };
        random.manual_seed(7);
        using var model = new BertModel(config);
        model.eval();
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("encoder.layer.0.attention.self.distance_embedding.weight", names);
        Assert.Contains("embeddings.position_embeddings.weight", names); // kept, unused, as Hugging Face keeps it
        Assert.Equal([63, 64], model.named_parameters().Single(p => p.name == "encoder.layer.1.attention.self.distance_embedding.weight").parameter.shape);

        // Only relative order is seen: the same tokens after three masked-out pad tokens give the same
        // hidden states, where absolute positions (the same weights, read as "absolute") change them.
        using var _ = no_grad();
        using var ids = tensor(new long[] { 5, 9, 14, 3 }, dtype: int64).unsqueeze(0);
        using var shifted = tensor(new long[] { 0, 0, 0, 5, 9, 14, 3 }, dtype: int64).unsqueeze(0);
        using var shiftedMask = tensor(new long[] { 0, 0, 0, 1, 1, 1, 1 }, dtype: int64).unsqueeze(0);
        Tensor Hidden(BertModel m, Tensor i, Tensor mask) => m.call(i, zeros_like(i), mask).LastHiddenState;
        using var plain = Hidden(model, ids, ones_like(ids));
        using var moved = Hidden(model, shifted, shiftedMask)[.., 3..];
        Assert.True(moved.allclose(plain, rtol: 1e-5, atol: 1e-6));
        using var absolute = new BertModel(config with { PositionEmbeddingType = "absolute" });
        absolute.load_state_dict(model.state_dict(), strict: false);
        absolute.eval();
        using var absoluteMoved = Hidden(absolute, shifted, shiftedMask)[.., 3..];
        Assert.False(absoluteMoved.allclose(Hidden(absolute, ids, ones_like(ids)), rtol: 1e-3, atol: 1e-4));

        using var tooLong = zeros([1, 33], dtype: int64);
        Assert.Contains("longer than the model's 32 positions", Assert.Throws<InvalidInputException>(() => model.call(tooLong, zeros_like(tooLong), ones_like(tooLong))).Message);
    }
}
