namespace KeyProxy.Edge.Classification;

/// <summary>What an inner packet from a handset is, in the seed's order (S21-S24).</summary>
public enum AccessPacketKind : byte
{
    /// <summary>Not a readable IPv4/IPv6 packet (or a UDP header that does not check out): dropped and counted.</summary>
    Malformed,

    /// <summary>The source is not the tunnel's handset address: dropped and counted (DESIGN, Access link).</summary>
    Spoofed,

    /// <summary>S21: a key exchange proxy request (UDP to the peer's IKE port, reserved SPIs, exchange 240).</summary>
    ProxyRequest,

    /// <summary>S23 from the wrong side: key transfers only flow from the network to handsets: dropped and counted.</summary>
    KeyTransfer,

    /// <summary>S24: everything else, routed to the network untouched (ESP in UDP included).</summary>
    Route,
}
