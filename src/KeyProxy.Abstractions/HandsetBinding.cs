namespace KeyProxy.Abstractions;

/// <summary>
/// Where a proxied handset is: its subscriber, the edge serving it, its address there and its access tunnel; and the
/// ESP suites it said at attach it can run (empty: not said), the only ones a proxy session may negotiate for it; and
/// whether that edge can carry plain ESP (IP protocol 50) for it on the network side.
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

    /// <summary>
    /// The edge sees and sends plain ESP for this handset (its TUN packet path, issue 18): a proxy session may then leave a
    /// CHILD_SA unencapsulated when no NAT is detected (RFC 7296 2.23, RFC 3948). False (the socket path, which only has UDP
    /// sockets on the handset's IKE and NAT-T ports): every CHILD_SA is forced into UDP encapsulation.
    /// </summary>
    [Id(5)]
    public bool EdgeCarriesPlainEsp { get; init; }
}
