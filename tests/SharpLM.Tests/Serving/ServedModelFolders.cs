using SharpLM.Interop;
using SharpLM.Model;
using SharpLM.Serving;
using SharpLM.Tasks.Classification;
using SharpLM.Tasks.QuestionAnswering;
using SharpLM.Tasks.TokenClassification;
using SharpLM.Tests.Interop;
using SharpLM.Text;

namespace SharpLM.Tests.Serving;

/// <summary>
/// One model folder per task (a tiny masked LM and the classifier, tagger and QA model fine-tuning would start from
/// it, untrained but saved and loaded as real ones are), the real all-MiniLM-L6-v2 for embeddings, and a server
/// over all five on a free loopback port, shared by the serving tests.
/// </summary>
public sealed class ServedModelFolders : IAsyncLifetime
{
    private readonly TempFolder _temp = new();

    public string MaskedLm => _temp.Of("mlm");
    public string Classifier => _temp.Of("classify");
    public string Tagger => _temp.Of("ner");
    public string Answerer => _temp.Of("qa");
    public static string Embedder => MiniLmOnnx.ModelDirectory;
    public InferenceServer Server { get; private set; } = null!;
    public HttpClient Client { get; } = new() { Timeout = TimeSpan.FromSeconds(60) };

    public async Task InitializeAsync()
    {
        var vocabulary = Vocabulary.Load(TestData.BertBaseUncasedVocab);
        var config = BertConfig.Preset("tiny", vocabulary.Count) with { MaxPositionEmbeddings = 64 };
        using (var model = new BertForPreTraining(config)) HuggingFaceCheckpoint.Save(model, config, vocabulary, MaskedLm);
        using (var classifier = TextClassifier.FromPretrained(MaskedLm, ["negative", "positive"], 64)) classifier.Save(Classifier);
        using (var tagger = TokenTagger.FromPretrained(MaskedLm, ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], crf: false, 64))
        {
            // An untrained tagger may find no entity at all; this bias makes every word a location, so the NER tests see entities.
            using (TorchSharp.torch.no_grad()) tagger.Model.get_parameter("classifier.bias")!.copy_(TorchSharp.torch.tensor(new[] { 0f, 0f, 0f, 20f, 0f }));
            tagger.Save(Tagger);
        }
        using (var answerer = QuestionAnswerer.FromPretrained(MaskedLm, 64, 16)) answerer.Save(Answerer);
        Server = await InferenceServer.StartAsync(new ServerOptions
        {
            Models = [("mlm", MaskedLm), ("minilm", Embedder), ("classify", Classifier), ("ner", Tagger), ("qa", Answerer)],
            Port = 0,
            MaxInputs = 16,
            MaxBodyBytes = 100_000,
        });
        Client.BaseAddress = new Uri(Server.Address);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        _temp.Dispose();
    }
}
