namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Tests that measure the whole process (its managed heap) run in this collection: xUnit runs it after the
/// parallel ones, by itself, so no other test's silos or charons are in the figure.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "alone";
}
