namespace KeyProxy.Abstractions;

/// <summary>
/// An IPsec application condition of a subscriber's profile: the key exchange proxy serves traffic to peers
/// inside <see cref="PeerPrefix"/>, for <see cref="Protocol"/> (0 = any) and local ports
/// <see cref="StartPort"/>..<see cref="EndPort"/>, in the <see cref="Roles"/> allowed. <see cref="PeerIdentity"/>
/// is the IKE identity the peer must prove ("fqdn:peer.example"), or null for any.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record ProxyCondition(
    [property: Id(0)] string PeerPrefix,
    [property: Id(1)] byte Protocol,
    [property: Id(2)] ushort StartPort,
    [property: Id(3)] ushort EndPort,
    [property: Id(4)] ProxyRoles Roles,
    [property: Id(5)] string? PeerIdentity = null)
{
    /// <summary>Any protocol, any port, both roles, any peer identity, for peers inside <paramref name="peerPrefix"/>.</summary>
    public static ProxyCondition AnyTraffic(string peerPrefix) =>
        new(peerPrefix, 0, 0, ushort.MaxValue, ProxyRoles.Initiator | ProxyRoles.Responder);
}
