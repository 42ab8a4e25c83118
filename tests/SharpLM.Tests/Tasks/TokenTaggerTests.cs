using SharpLM.Tasks.TokenClassification;
using SharpLM.Text;

namespace SharpLM.Tests.Tasks;

[Collection(GlobalTorchRandomCollection.Name)]
public class TokenTaggerTests : IDisposable
{
    private readonly TempFolder _temp = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Long_sentences_are_cut_into_chunks_of_whole_words_and_every_word_gets_a_tag()
    {
        TestData.TinyPretrainedModel(_temp.Path, maxPositions: 64);
        using var tagger = TokenTagger.FromPretrained(_temp.Path, ["O", "B-X", "I-X"], crf: true, maxLength: 16);

        // A real sentence of many words, some of several pieces.
        string[] words = TestData.Lines(TestData.SotuPath).First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Take(60).ToArray();
        var chunks = tagger.Chunks([new TaggedSentence(words, words.Select(_ => "O").ToArray())]);
        Assert.True(chunks.Count > 4);
        Assert.All(chunks, c => Assert.True(c.Encoding.Length <= 16));
        Assert.Equal(words.Length, chunks.Sum(c => c.WordPositions.Length));
        Assert.Equal(words.Length, chunks.Sum(c => c.TagIds.Length));
        // Each word's first piece is where its position points.
        var tokenizer = BertTokenizer.Load(TestData.BertBaseUncasedVocab);
        int word = 0;
        foreach (var chunk in chunks)
            foreach (int position in chunk.WordPositions)
            {
                var pieces = new List<int>();
                tokenizer.AppendIds(words[word++], pieces);
                Assert.Equal(pieces[0], chunk.Encoding.Ids[position]);
            }

        var (tags, scores) = tagger.Predict([words])[0];
        Assert.Equal(words.Length, tags.Length);
        Assert.All(scores, s => Assert.InRange(s, 0, 1));
        // The CRF never decodes an invalid BIO sequence.
        for (int i = 0; i < tags.Length; i++)
            if (tags[i] == "I-X") Assert.True(i > 0 && tags[i - 1] is "B-X" or "I-X");
    }
}
