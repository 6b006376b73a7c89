namespace KeyProxy.Abstractions;

/// <summary>
/// A live proxy session as the admin API lists it: <see cref="SessionId"/> (the ProxySessionGrain's key), the subscriber,
/// the role the proxy took, the peer's address, the edge serving the handset, the IKE SPIs (hex) and since when.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ProxySessionInfo(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string Nai,
    [property: Id(2)] ProxyRoles Role,
    [property: Id(3)] string PeerAddress,
    [property: Id(4)] string EdgeId,
    [property: Id(5)] string IkeSpis,
    [property: Id(6)] DateTimeOffset Since);
