namespace SharpLM.Tasks.TokenClassification;

/// <summary>
/// Reads CoNLL-style tagged text: one word per line with its tag last, separated by spaces or tabs
/// (columns between them, as CoNLL-2003's part-of-speech and chunk tags, are ignored); a blank line ends
/// a sentence; <c>-DOCSTART-</c> lines are skipped.
/// </summary>
public static class ConllFile
{
    /// <summary>The sentences of <paramref name="path"/>.</summary>
    /// <exception cref="InvalidInputException">The file is unreadable, has a line with no tag, or holds no sentence.</exception>
    public static List<TaggedSentence> Read(string path)
    {
        var sentences = new List<TaggedSentence>();
        var words = new List<string>();
        var tags = new List<string>();
        void EndSentence()
        {
            if (words.Count > 0) sentences.Add(new TaggedSentence(words.ToArray(), tags.ToArray()));
            words.Clear();
            tags.Clear();
        }
        int lineNumber = 0;
        foreach (string raw in TaskFile.ReadText(path).Split('\n'))
        {
            lineNumber++;
            string line = raw.TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line)) { EndSentence(); continue; }
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields[0] == "-DOCSTART-") { EndSentence(); continue; }
            if (fields.Length < 2) throw new InvalidInputException($"{path}: line {lineNumber} has a word but no tag ('{line}'); expected 'WORD TAG'.");
            words.Add(fields[0]);
            tags.Add(fields[^1]);
        }
        EndSentence();
        if (sentences.Count == 0) throw new InvalidInputException($"{path}: no tagged sentences.");
        return sentences;
    }
}
