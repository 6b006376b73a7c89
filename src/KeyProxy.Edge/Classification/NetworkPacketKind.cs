namespace KeyProxy.Edge.Classification;

/// <summary>
/// What a datagram that arrived on a handset's network-side socket (its IKE or NAT-T port) is, or a whole IP packet
/// for a pool address (the TUN packet path).
/// </summary>
public enum NetworkPacketKind : byte
{
    /// <summary>Too short for what it claims to be: dropped and counted.</summary>
    Malformed,

    /// <summary>A proxy request from the network side: only handsets may send one (DESIGN, Security): dropped and counted.</summary>
    ProxyRequest,

    /// <summary>A key transfer from the network side: only the proxy makes them: dropped and counted.</summary>
    KeyTransfer,

    /// <summary>S22: an IKE message that opens an IKE SA (IKE_SA_INIT request, responder SPI zero).</summary>
    IkeSaInitRequest,

    /// <summary>S22: any other IKE message, routed by its initiator SPI.</summary>
    Ike,

    /// <summary>RFC 3948 ESP in UDP on the NAT-T port: routed to the handset untouched.</summary>
    Esp,

    /// <summary>RFC 3948 NAT-keepalive: nothing to do (counted).</summary>
    NatKeepalive,

    /// <summary>
    /// Whole packets only (<see cref="EdgeClassifier.ClassifyPoolPacket"/>): ESP as IP protocol 50 (RFC 4303), with no
    /// UDP encapsulation; routed to the handset untouched.
    /// </summary>
    PlainEsp,

    /// <summary>Whole packets only: neither IKE nor ESP (another protocol, or UDP to another port): dropped and counted.</summary>
    OtherTraffic,

    /// <summary>Whole packets only: an IP fragment, which the edge does not reassemble: dropped and counted.</summary>
    Fragment,
}
