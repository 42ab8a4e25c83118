namespace SharpLM.Tasks.TokenClassification;

/// <summary>
/// Which tag sequences are valid, for the CRF's forbidden transitions. Tags with B-/I-/E-/S- prefixes
/// and O follow BIO (IOB2) or, when any E- or S- tag occurs, BIOES; other tags (plain labels) allow
/// every sequence.
/// </summary>
public sealed class TagScheme
{
    private readonly (char Prefix, string Type)[] _tags;

    /// <summary>Reads the scheme from the tag set (the model's labels, in id order).</summary>
    public TagScheme(IReadOnlyList<string> tags)
    {
        _tags = tags.Select(Split).ToArray();
        bool prefixed = _tags.All(t => t.Prefix is 'O' or 'B' or 'I' or 'E' or 'S') && _tags.Any(t => t.Prefix != 'O');
        Name = !prefixed ? "plain" : _tags.Any(t => t.Prefix is 'E' or 'S') ? "BIOES" : "BIO";
    }

    /// <summary>"BIO", "BIOES" or "plain".</summary>
    public string Name { get; }

    /// <summary>The prefix letter (B, I, E, S or O; P for a plain tag) and the type of a tag.</summary>
    public static (char Prefix, string Type) Split(string tag)
    {
        if (tag == "O") return ('O', "");
        if (tag.Length > 2 && tag[1] == '-' && tag[0] is 'B' or 'I' or 'E' or 'S') return (tag[0], tag[2..]);
        return ('P', tag);
    }

    /// <summary>Whether a sequence may start with tag <paramref name="to"/>.</summary>
    public bool CanStart(int to) => Name == "plain" || _tags[to].Prefix is 'O' or 'B' or 'S';

    /// <summary>Whether a sequence may end with tag <paramref name="from"/>.</summary>
    public bool CanEnd(int from) => Name != "BIOES" || _tags[from].Prefix is 'O' or 'E' or 'S';

    /// <summary>Whether tag <paramref name="to"/> may follow tag <paramref name="from"/>.</summary>
    public bool CanFollow(int from, int to)
    {
        if (Name == "plain") return true;
        var (fromPrefix, fromType) = _tags[from];
        var (toPrefix, toType) = _tags[to];
        bool inside = fromPrefix is 'B' or 'I';
        // I- (and E-) continue an entity of the same type; in BIOES an open entity must continue.
        if (toPrefix is 'I' or 'E') return inside && fromType == toType;
        return Name == "BIO" || !inside;
    }
}
