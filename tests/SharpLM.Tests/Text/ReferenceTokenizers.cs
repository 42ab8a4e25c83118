using Fast = FastBertTokenizer;
using Ml = Microsoft.ML.Tokenizers;
using Rust = Tokenizers.DotNet;

namespace SharpLM.Tests.Text;

/// <summary>The two reference WordPiece encoders, loaded with the real bert-base-uncased vocab.</summary>
internal static class ReferenceTokenizers
{
    private static readonly Lazy<Fast.BertTokenizer> FastBert = new(() =>
    {
        var tokenizer = new Fast.BertTokenizer();
        using var reader = new StreamReader(TestData.BertBaseUncasedVocab);
        tokenizer.LoadVocabulary(reader, convertInputToLowercase: true);
        return tokenizer;
    });

    private static readonly Lazy<Ml.BertTokenizer> MlBert = new(() =>
    {
        using var stream = File.OpenRead(TestData.BertBaseUncasedVocab);
        // Accent stripping in ML.Tokenizers is RemoveNonSpacingMarks.
        return Ml.BertTokenizer.Create(stream, new Ml.BertOptions { LowerCaseBeforeTokenization = true, RemoveNonSpacingMarks = true });
    });

    private static readonly Lazy<Rust.Tokenizer> HfRust = new(() => RustTokenizer(lowercase: true));
    private static readonly Lazy<Rust.Tokenizer> HfRustCased = new(() => RustTokenizer(lowercase: false));

    private static Rust.Tokenizer RustTokenizer(bool lowercase)
    {
        string path = Path.Combine(Path.GetTempPath(), $"sharplm-tokenizer-{(lowercase ? "uncased" : "cased")}-{Environment.ProcessId}.json");
        SharpLM.Interop.TokenizerJson.Save(SharpLM.Text.Vocabulary.Load(TestData.BertBaseUncasedVocab), lowercase, path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => File.Delete(path);
        return new Rust.Tokenizer(vocabPath: path);
    }

    /// <summary>Hugging Face tokenizers (Rust) through Tokenizers.DotNet 1.4.1, from our tokenizer.json: ids with [CLS] and [SEP].</summary>
    public static int[] HuggingFaceIds(string text) => HfRust.Value.Encode(text).Select(i => (int)i).ToArray();

    /// <summary>As <see cref="HuggingFaceIds"/>, with the tokenizer.json SharpLM writes for a cased model (no lowercasing, accents kept).</summary>
    public static int[] HuggingFaceCasedIds(string text) => HfRustCased.Value.Encode(text).Select(i => (int)i).ToArray();

    /// <summary>FastBertTokenizer 1.2.6: ids with [CLS] and [SEP].</summary>
    public static int[] FastBertIds(string text)
    {
        var (ids, _, _) = FastBert.Value.Encode(text, maximumTokens: 1_000_000);
        return ids.ToArray().Select(i => (int)i).ToArray();
    }

    /// <summary>Microsoft.ML.Tokenizers 2.0.1 BertTokenizer: ids with [CLS] and [SEP].</summary>
    public static int[] MlTokenizersIds(string text) => MlBert.Value.EncodeToIds(text).ToArray();
}
