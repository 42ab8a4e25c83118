namespace SharpLM.Model;

/// <summary>
/// The named sizes that BERT and Llama presets share: tiny (2 layers, 128 wide), mini (4/256), small (4/512),
/// medium (8/512), base (12/768), the depths and widths of Turc et al.'s small BERTs.
/// </summary>
public static class ModelSize
{
    /// <summary>Layers and hidden width of the preset <paramref name="name"/>.</summary>
    /// <exception cref="InvalidInputException">No preset has that name.</exception>
    public static (int Layers, int Hidden) Of(string name) => name switch
    {
        "tiny" => (2, 128),
        "mini" => (4, 256),
        "small" => (4, 512),
        "medium" => (8, 512),
        "base" => (12, 768),
        _ => throw new InvalidInputException($"unknown preset '{name}'; choose tiny, mini, small, medium or base."),
    };
}
