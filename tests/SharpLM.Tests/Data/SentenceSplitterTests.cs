using SharpLM.Data;

namespace SharpLM.Tests.Data;

public class SentenceSplitterTests
{
    [Fact]
    public void English_sentences_end_at_stops_followed_by_a_capital_but_not_after_abbreviations_or_initials()
    {
        string paragraph = "Mr. Speaker, Mr. Vice President: we met in the U.S. Capitol. Was it cold? Yes! " +
                           "John F. Kennedy said \"Ask not.\" Then 1961 came. Prices rose 2.5 percent in Jan. Then fell.";
        Assert.Equal(new[]
        {
            "Mr. Speaker, Mr. Vice President: we met in the U.S. Capitol.",
            "Was it cold?",
            "Yes!",
            "John F. Kennedy said \"Ask not.\"",
            "Then 1961 came.",
            "Prices rose 2.5 percent in Jan. Then fell.",
        }, SentenceSplitter.Split(paragraph));
    }

    [Fact]
    public void Chinese_sentences_end_at_full_stops_exclamations_questions_and_semicolons()
    {
        Assert.Equal(new[] { "床前明月光，疑是地上霜。", "舉頭望明月；", "低頭思故鄉！", "何處？", "是" },
            SentenceSplitter.Split("床前明月光，疑是地上霜。舉頭望明月；低頭思故鄉！何處？是"));
    }

    [Fact]
    public void Real_State_of_the_Union_paragraphs_split_into_plausible_sentences()
    {
        var sentences = TestData.Lines(TestData.SotuPath).Take(20).SelectMany(SentenceSplitter.Split).ToList();
        Assert.True(sentences.Count > 500, $"{sentences.Count} sentences");
        Assert.All(sentences, s => Assert.True(s.Length < 2000, s[..Math.Min(100, s.Length)]));
        Assert.True(sentences.Count(s => s.EndsWith('.') || s.EndsWith('?') || s.EndsWith('!') || s.EndsWith('"')) > sentences.Count * 0.95);
    }
}
