namespace SharpLM.Tasks.TokenClassification;

/// <summary>An entity found in a tag sequence: its type and the words it covers, <paramref name="Start"/> to <paramref name="End"/> inclusive.</summary>
public readonly record struct EntitySpan(string Type, int Start, int End)
{
    /// <summary>
    /// The entities of a tag sequence with the semantics of seqeval's default (lenient) mode, which is
    /// what papers and Hugging Face's examples report: B-, I-, E- and S- prefixes (BIO, IOB2, BIOES), an
    /// I- after O or after another type starts an entity, a change of type ends one. A tag without a
    /// known prefix (plain labels such as tone classes) is an entity of one word of that type; O is none.
    /// </summary>
    public static List<EntitySpan> In(IReadOnlyList<string> tags)
    {
        var spans = new List<EntitySpan>();
        char previousPrefix = 'O';
        string previousType = "";
        int begin = 0;
        for (int i = 0; i <= tags.Count; i++)
        {
            var (prefix, type) = i < tags.Count ? TagScheme.Split(tags[i]) : ('O', "");
            if (prefix == 'P') prefix = 'S';
            if (EndsChunk(previousPrefix, prefix, previousType, type)) spans.Add(new EntitySpan(previousType, begin, i - 1));
            if (StartsChunk(previousPrefix, prefix, previousType, type)) begin = i;
            previousPrefix = prefix;
            previousType = type;
        }
        return spans;
    }

    // seqeval's end_of_chunk and start_of_chunk; a plain tag behaves as S- (a chunk of one).
    private static bool EndsChunk(char previous, char current, string previousType, string type) =>
        previous is 'E' or 'S'
        || (previous is 'B' or 'I' && current is 'B' or 'S' or 'O')
        || (previous != 'O' && previousType != type);

    private static bool StartsChunk(char previous, char current, string previousType, string type) =>
        current is 'B' or 'S'
        || (previous is 'E' or 'S' or 'O' && current is 'E' or 'I')
        || (current != 'O' && previousType != type);
}
