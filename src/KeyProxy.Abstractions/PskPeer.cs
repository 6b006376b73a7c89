namespace KeyProxy.Abstractions;

/// <summary>A pre-shared key's scope without the key, for summaries.</summary>
[GenerateSerializer, Immutable]
public sealed record PskPeer(
    [property: Id(0)] string PeerPrefix,
    [property: Id(1)] string? PeerIdentity);
