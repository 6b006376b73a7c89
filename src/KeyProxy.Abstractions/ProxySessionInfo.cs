namespace KeyProxy.Abstractions;

/// <summary>
/// A live proxy session as the admin API lists it: <see cref="SessionId"/> (the ProxySessionGrain's key), the subscriber,
/// the role the proxy took, the peer's address, the edge serving the handset, the IKE SPIs (hex) and since when; then,
/// like <c>swanctl --list-sas</c>, the IKE SA's state, suite and establishment time and its CHILD_SAs. No keys.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ProxySessionInfo(
    [property: Id(0)] string SessionId,
    [property: Id(1)] string Nai,
    [property: Id(2)] ProxyRoles Role,
    [property: Id(3)] string PeerAddress,
    [property: Id(4)] string EdgeId,
    [property: Id(5)] string IkeSpis,
    [property: Id(6)] DateTimeOffset Since,
    [property: Id(7)] string IkeState = "",
    [property: Id(8)] string IkeSuite = "",
    [property: Id(9)] DateTimeOffset? Established = null,
    [property: Id(10)] IReadOnlyList<ChildSaInfo>? ChildSas = null);

/// <summary>
/// One CHILD_SA of a proxy session, seen from the handset (the proxy negotiates in its name): <see cref="InboundSpi"/> is
/// what the handset receives with (the peer's outbound), <see cref="OutboundSpi"/> what it sends with. <see cref="Suite"/>
/// in strongSwan's notation (<c>AES_GCM_16-128</c>), <see cref="Mode"/> <c>TUNNEL</c>, <c>TUNNEL-in-UDP</c>, ...
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ChildSaInfo(
    [property: Id(0)] uint InboundSpi,
    [property: Id(1)] uint OutboundSpi,
    [property: Id(2)] string Suite,
    [property: Id(3)] string Mode,
    [property: Id(4)] DateTimeOffset Established);
