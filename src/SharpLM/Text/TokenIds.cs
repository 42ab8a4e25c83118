namespace SharpLM.Text;

/// <summary>A vocabulary being learned: tokens in the order they were added, each token's id its place in that order.</summary>
internal sealed class TokenIds
{
    private readonly List<string> _tokens = new();
    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);

    /// <summary>Starts with <paramref name="first"/> (the special tokens) at ids 0, 1, ...</summary>
    public TokenIds(IEnumerable<string> first)
    {
        foreach (string token in first) Intern(token);
    }

    /// <summary>The tokens, by id.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>Every token with its id.</summary>
    public IReadOnlyDictionary<string, int> Ids => _ids;

    /// <summary>Tokens so far.</summary>
    public int Count => _tokens.Count;

    /// <summary>The id of <paramref name="token"/>, added at the end if it is new.</summary>
    public int Intern(string token)
    {
        if (_ids.TryGetValue(token, out int id)) return id;
        id = _tokens.Count;
        _tokens.Add(token);
        _ids[token] = id;
        return id;
    }
}
