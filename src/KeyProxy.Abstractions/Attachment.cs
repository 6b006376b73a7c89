namespace KeyProxy.Abstractions;

/// <summary>
/// Where a subscriber's handset is attached: the edge (<see cref="EdgeId"/>), the handset address the edge
/// sends and receives as on the network side, the access-link tunnel id, and since when.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record Attachment(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] string HandsetAddress,
    [property: Id(2)] uint TunnelId,
    [property: Id(3)] DateTimeOffset Since);
