namespace KeyProxy.Abstractions;

/// <summary>
/// A pre-shared key the proxy uses on the subscriber's behalf with peers inside <see cref="PeerPrefix"/>
/// (and, when set, only with a peer proving <see cref="PeerIdentity"/>). The key never appears in <see cref="ToString"/>.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record PeerPsk(
    [property: Id(0)] string PeerPrefix,
    [property: Id(1)] string? PeerIdentity,
    [property: Id(2), StoredSecret] byte[] Key)
{
    public override string ToString() => $"PeerPsk {{ PeerPrefix = {PeerPrefix}, PeerIdentity = {PeerIdentity ?? "any"}, Key = ({Key?.Length ?? 0} bytes) }}";
}
