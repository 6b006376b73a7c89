namespace KeyProxy.Abstractions;

/// <summary>
/// One IKE message between a proxy session and a peer, as the edge sends or received it on the
/// handset's network side: the peer's endpoint, whether it travels on the NAT-T port (RFC 3948:
/// the edge adds or strips the non-ESP marker) and the IKE message itself.
/// </summary>
[GenerateSerializer, Immutable]
public sealed record IkeDatagram(
    [property: Id(0)] string PeerAddress,
    [property: Id(1)] int PeerPort,
    [property: Id(2)] bool NatTraversal,
    [property: Id(3)] byte[] Message);
