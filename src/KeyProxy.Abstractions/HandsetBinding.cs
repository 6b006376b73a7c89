namespace KeyProxy.Abstractions;

/// <summary>
/// Where a proxied handset is: its subscriber, the edge serving it, its address there and its access tunnel; and the
/// ESP suites it said at attach it can run (empty: not said), the only ones a proxy session may negotiate for it.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HandsetBinding(
    [property: Id(0)] string Nai,
    [property: Id(1)] string EdgeId,
    [property: Id(2)] string HandsetAddress,
    [property: Id(3)] uint TunnelId)
{
    [Id(4)]
    public IReadOnlyList<HandsetEspSuite> EspSuites { get; init; } = [];
}
