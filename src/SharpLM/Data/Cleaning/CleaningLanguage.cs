namespace SharpLM.Data.Cleaning;

/// <summary>The language a corpus is cleaned as: it decides what a word is and which English-only rules apply.</summary>
public enum CleaningLanguage
{
    /// <summary>English: words are separated by white space; every rule applies.</summary>
    English,

    /// <summary>Chinese: each Han character is a word (for n-grams, counts and shingles); the English-only rules (stop words, mean word length) are skipped.</summary>
    Chinese,

    /// <summary>Any other language written with spaces: the English-only rules are skipped.</summary>
    Any,
}
