namespace SharpLM.Tests;

/// <summary>
/// Tests that seed libtorch's process-wide random generator and compare runs (initialisation, dropout):
/// they run alone, since another test drawing from that generator at the same time would change them.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalTorchRandomCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "libtorch global random generator";
}
