namespace KeyProxy.Wire.Ip;

/// <summary>Why an IP packet or UDP datagram was not accepted by <see cref="IpPacket"/> or <see cref="UdpDatagram"/>.</summary>
public enum PacketError : byte
{
    None = 0,

    /// <summary>Shorter than the fixed header (20 bytes IPv4, 40 IPv6, 8 UDP).</summary>
    Truncated,

    /// <summary>The version nibble is not the one expected (4 or 6).</summary>
    BadVersion,

    /// <summary>IPv4 IHL below 5 or beyond the data (RFC 791 3.1).</summary>
    BadHeaderLength,

    /// <summary>IPv4 Total Length / IPv6 Payload Length / UDP Length is inconsistent with the data.</summary>
    BadLength,

    /// <summary>The IPv4 header checksum does not verify (RFC 791 3.1).</summary>
    BadHeaderChecksum,

    /// <summary>
    /// An IPv4 fragment (MF set or a non-zero offset), or IPv6 with a Fragment header (next header 44).
    /// The packet's header fields are still filled in, so it can be routed; it cannot be classified further.
    /// </summary>
    Fragment,

    /// <summary>
    /// IPv6 whose next header is an extension header (RFC 8200 4) other than Fragment; these are not skipped.
    /// The header fields are filled in and <see cref="IpPacket.Protocol"/> names the extension header.
    /// </summary>
    ExtensionHeader,

    /// <summary>The packet is not UDP (protocol/next header is not 17).</summary>
    NotUdp,

    /// <summary>The UDP checksum does not verify, or is zero over IPv6 (RFC 8200 8.1).</summary>
    BadChecksum,

    /// <summary>A writer's destination span is too small or the payload too large for the length fields.</summary>
    DestinationTooSmall,
}
