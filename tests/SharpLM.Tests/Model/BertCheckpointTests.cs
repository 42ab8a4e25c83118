using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Text;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace SharpLM.Tests.Model;

public class BertCheckpointTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    private static BertConfig Tiny => BertConfig.Preset("tiny", vocabSize: 120) with { HiddenDropoutProb = 0, AttentionProbsDropoutProb = 0 };

    [Fact]
    public void Config_json_round_trips_with_Hugging_Face_keys_and_SharpLM_options()
    {
        var config = Tiny with { PreLayerNorm = true, GatedFeedForward = true, PositionEmbeddingType = "relative_key", Labels = ["ham", "spam"] };
        string path = _temp.Of("config.json");
        config.Save(path);
        string json = File.ReadAllText(path);
        foreach (string key in new[] { "\"vocab_size\": 120", "\"hidden_size\": 128", "\"num_hidden_layers\": 2", "\"num_attention_heads\": 2",
                     "\"intermediate_size\": 512", "\"hidden_act\": \"gelu\"", "\"model_type\": \"bert\"", "\"sharplm_pre_layer_norm\": true", "\"1\": \"spam\"", "\"position_embedding_type\": \"relative_key\"" })
            Assert.Contains(key, json);
        var loaded = BertConfig.Load(path);
        Assert.Equal(config.ToJson(), loaded.ToJson());
        Assert.Equal(["ham", "spam"], loaded.Labels);
    }

    [Fact]
    public void ELECTRA_models_carry_Hugging_Face_ELECTRA_names_and_an_ELECTRA_config_round_trips()
    {
        var config = new BertConfig { ModelType = "electra", VocabSize = 50, HiddenSize = 32, EmbeddingWidth = 16, NumHiddenLayers = 1, NumAttentionHeads = 2, IntermediateSize = 64 };
        string path = _temp.Of("config.json");
        config.Save(path);
        var loaded = BertConfig.Load(path);
        Assert.Equal(("electra", 16, "ElectraForPreTraining"), (loaded.ModelType, loaded.EmbeddingSize, loaded.Architecture));

        static List<string> Names(TorchSharp.torch.nn.Module m) => m.named_parameters().Select(p => p.name).ToList();
        using var discriminator = new ElectraForPreTraining(config);
        Assert.Contains("electra.embeddings.word_embeddings.weight", Names(discriminator));
        Assert.Contains("electra.embeddings_project.weight", Names(discriminator));
        Assert.Contains("discriminator_predictions.dense_prediction.weight", Names(discriminator));
        Assert.DoesNotContain(Names(discriminator), n => n.Contains("pooler"));
        Assert.Equal([16], discriminator.Electra.Embeddings.WordEmbeddings.shape.Skip(1));
        using var generator = new ElectraForMaskedLM(ElectraPretraining.GeneratorConfig(config));
        Assert.Contains("generator_lm_head.bias", Names(generator));
        Assert.Contains("generator_predictions.LayerNorm.weight", Names(generator));
        Assert.DoesNotContain("generator_lm_head.weight", Names(generator)); // tied to the word embeddings
        using var classification = new BertForSequenceClassification(config, 3);
        Assert.Contains("classifier.out_proj.weight", Names(classification));
        Assert.All(Names(classification), n => Assert.True(n.StartsWith("electra.") || n.StartsWith("classifier."), n));
        using var answering = new BertForQuestionAnswering(config);
        Assert.All(Names(answering), n => Assert.True(n.StartsWith("electra.") || n.StartsWith("qa_outputs."), n));

        // The pair shares one set of embeddings: registered once, by the discriminator.
        using var pair = new ElectraPretraining(config, ElectraPretraining.GeneratorConfig(config));
        Assert.Single(Names(pair), n => n.EndsWith("word_embeddings.weight"));
        Assert.Throws<InvalidInputException>(() => BertConfig.Load(_temp.Write("bad.json", "{\"model_type\": \"roberta\"}")));
    }

    [Fact]
    public void A_model_saved_and_loaded_gives_the_same_outputs()
    {
        random.manual_seed(3);
        using var model = new BertForPreTraining(Tiny);
        var vocabulary = new Vocabulary(Vocabulary.SpecialTokens.Concat(Enumerable.Range(0, 115).Select(i => $"w{i}")));
        string directory = _temp.Of("model");
        HuggingFaceCheckpoint.Save(model, Tiny, vocabulary, directory);
        Assert.Equal(new[] { "config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt" }, Directory.GetFiles(directory).Select(Path.GetFileName).Order());

        using var loaded = new BertForPreTraining(BertConfig.Load(directory));
        var report = HuggingFaceCheckpoint.LoadDirectory(loaded, BertConfig.Load(directory), directory);
        Assert.Empty(report.Missing);
        Assert.Empty(report.Unexpected);
        model.eval();
        loaded.eval();
        using var ids = tensor(new long[] { 2, 17, 40, 3 }).unsqueeze(0);
        var (a, b) = model.call(ids, zeros_like(ids), ones_like(ids));
        var (c, d) = loaded.call(ids, zeros_like(ids), ones_like(ids));
        Assert.True(a.allclose(c, 0, 0) && b.allclose(d, 0, 0));
    }

    [Fact]
    public void A_bare_BertModel_checkpoint_fills_the_encoder_and_reports_the_heads_missing()
    {
        using var encoder = new BertModel(Tiny);
        string path = _temp.Of("bare.safetensors");
        Safetensors.SaveStateDict(path, encoder.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
        Assert.DoesNotContain(Safetensors.LoadStateDict(path).Keys, k => k.StartsWith("bert."));

        using var full = new BertForPreTraining(Tiny);
        var report = HuggingFaceCheckpoint.Load(full, HuggingFaceCheckpoint.ReadWeights(path), path);
        Assert.Empty(report.Unexpected);
        Assert.All(report.Missing, name => Assert.StartsWith("cls.", name));
        Assert.Equal(7, report.Missing.Count);
        var query = full.named_parameters().Single(p => p.name == "bert.encoder.layer.1.attention.self.query.weight").parameter;
        var original = encoder.named_parameters().Single(p => p.name == "encoder.layer.1.attention.self.query.weight").parameter;
        Assert.True(query.allclose(original, 0, 0));

        // The other way: a BertForPreTraining checkpoint into a bare encoder leaves the heads unexpected.
        string fullPath = _temp.Of("full.safetensors");
        Safetensors.SaveStateDict(fullPath, full.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach()));
        using var another = new BertModel(Tiny);
        var back = HuggingFaceCheckpoint.Load(another, HuggingFaceCheckpoint.ReadWeights(fullPath), fullPath);
        Assert.Empty(back.Missing);
        Assert.Equal(7, back.Unexpected.Count);
    }

    [Fact]
    public void A_pytorch_model_bin_is_read_as_well()
    {
        using var model = new BertModel(Tiny);
        string directory = _temp.Of("bin");
        Directory.CreateDirectory(directory);
        var state = new System.Collections.Hashtable();
        foreach (var (name, parameter) in model.named_parameters()) state[name] = parameter.detach();
        PyTorchPickler.PickleStateDict(Path.Combine(directory, HuggingFaceCheckpoint.PyTorchWeightsFile), state);
        using var loaded = new BertModel(Tiny);
        var report = HuggingFaceCheckpoint.Load(loaded, HuggingFaceCheckpoint.ReadWeights(directory), directory);
        Assert.Empty(report.Missing);
        Assert.True(loaded.named_parameters().Zip(model.named_parameters()).All(p => p.First.parameter.allclose(p.Second.parameter, 0, 0)));
    }

    [Fact]
    public void A_shape_mismatch_is_refused_naming_the_weight_and_both_shapes()
    {
        using var small = new BertModel(Tiny);
        var weights = small.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter.detach());
        using var wider = new BertModel(Tiny with { IntermediateSize = 256 });
        var error = Assert.Throws<InvalidInputException>(() => HuggingFaceCheckpoint.Load(wider, weights, "ckpt"));
        Assert.Contains("encoder.layer.0.intermediate.dense.weight has shape [512, 128] but the model's encoder.layer.0.intermediate.dense.weight is [256, 128]", error.Message);
    }

    [Fact]
    public void Task_heads_carry_Hugging_Face_names()
    {
        using var classify = new BertForSequenceClassification(Tiny, labels: 3);
        Assert.Contains("classifier.weight", classify.named_parameters().Select(p => p.name));
        Assert.Contains("bert.pooler.dense.weight", classify.named_parameters().Select(p => p.name));
        using var tag = new BertForTokenClassification(Tiny with { Labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"] });
        Assert.DoesNotContain(tag.named_parameters(), p => p.name.Contains("pooler"));
        using var withCrf = new BertForTokenClassification(Tiny with { Labels = ["O", "B-PER", "I-PER"], Crf = true });
        Assert.Equal(new long[] { 3, 3 }, withCrf.named_parameters().Single(p => p.name == "crf.transitions").parameter.shape);
        Assert.Contains("crf.start_transitions", withCrf.named_parameters().Select(p => p.name));
        using var qa = new BertForQuestionAnswering(Tiny);
        Assert.Equal(new long[] { 2, 128 }, qa.named_parameters().Single(p => p.name == "qa_outputs.weight").parameter.shape);
        using var ids = tensor(new long[] { 2, 17, 40, 3 }).unsqueeze(0);
        Assert.Equal(new long[] { 1, 3 }, classify.call(ids, zeros_like(ids), ones_like(ids)).shape);
        Assert.Equal(new long[] { 1, 4, 5 }, tag.call(ids, zeros_like(ids), ones_like(ids)).shape);
        var (start, end) = qa.call(ids, zeros_like(ids), ones_like(ids));
        Assert.Equal(new long[] { 1, 4 }, start.shape);
        Assert.Equal(new long[] { 1, 4 }, end.shape);
    }

    [Fact]
    public void SharpLM_options_change_the_architecture_as_documented_and_still_train()
    {
        var config = Tiny with { PreLayerNorm = true, LinearBias = false, GatedFeedForward = true, SparseMaskedLm = true };
        using var model = new BertForPreTraining(config);
        var names = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Contains("bert.encoder.LayerNorm.weight", names.Keys);
        Assert.DoesNotContain("bert.encoder.layer.0.attention.self.query.bias", names.Keys);
        Assert.Equal(new long[] { 1024, 128 }, names["bert.encoder.layer.0.intermediate.dense.weight"].shape);
        using var ids = tensor(new long[] { 2, 17, 40, 9, 3 }).unsqueeze(0);
        using var labels = tensor(new long[] { -100, 17, -100, 9, -100 }).unsqueeze(0);
        var (total, _, _) = model.Loss(ids, zeros_like(ids), ones_like(ids), labels, tensor(new long[] { 1 }));
        total.backward();
        Assert.True(float.IsFinite(total.item<float>()));
        Assert.All(names.Values, p => Assert.NotNull(p.grad));
    }
}
