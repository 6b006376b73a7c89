namespace KeyProxy.Ipsec.Udp;

/// <summary>What a UDP payload received on the NAT-T port is (RFC 3948 2).</summary>
public enum NatTPayloadKind
{
    /// <summary>RFC 3948 2.3: a single 0xFF octet; ignore it.</summary>
    NatKeepalive,

    /// <summary>RFC 3948 2.2: the non-ESP marker (four zero octets) followed by an IKE message.</summary>
    Ike,

    /// <summary>RFC 3948 2.1: an ESP packet (non-zero SPI) starting right after the UDP header.</summary>
    Esp,

    /// <summary>None of the above (too short, or a marker with no room for an IKE header).</summary>
    Malformed,
}
