namespace KeyProxy.Abstractions;

/// <summary>Where a proxied handset is: its subscriber, the edge serving it, its address there and its access tunnel.</summary>
[GenerateSerializer, Immutable]
public sealed record HandsetBinding(
    [property: Id(0)] string Nai,
    [property: Id(1)] string EdgeId,
    [property: Id(2)] string HandsetAddress,
    [property: Id(3)] uint TunnelId);
