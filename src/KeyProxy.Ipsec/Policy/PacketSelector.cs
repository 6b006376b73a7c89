using System.Net;
using System.Net.Sockets;

namespace KeyProxy.Ipsec.Policy;

/// <summary>
/// The selector fields of one IP packet (RFC 4301 4.4.1.1): addresses, next-layer protocol and ports. Addresses are
/// held as 128-bit numbers (IPv4 in the low 32 bits) so a lookup compares integers and allocates nothing.
/// <see cref="HasPorts"/> is false for protocols without ports and for non-initial fragments (ports OPAQUE).
/// </summary>
public readonly record struct PacketSelector(
    AddressFamily Family,
    UInt128 Source,
    UInt128 Destination,
    byte Protocol,
    ushort SourcePort,
    ushort DestinationPort,
    bool HasPorts)
{
    /// <summary>Reads the 5-tuple of an IPv4 or IPv6 packet; false when the header is truncated or not IP.</summary>
    public static bool TryRead(ReadOnlySpan<byte> ipPacket, out PacketSelector selector) =>
        InnerPacketReader.TryRead(ipPacket, out selector);

    /// <summary>Builds a selector from addresses (tests and control paths; allocation is fine there).</summary>
    public static PacketSelector Create(IPAddress source, IPAddress destination, byte protocol, ushort sourcePort = 0, ushort destinationPort = 0, bool? hasPorts = null)
    {
        if (source.AddressFamily != destination.AddressFamily)
        {
            throw new ArgumentException("source and destination must be of one family", nameof(destination));
        }

        return new PacketSelector(
            source.AddressFamily,
            AddressValue.From(source),
            AddressValue.From(destination),
            protocol,
            sourcePort,
            destinationPort,
            hasPorts ?? InnerPacketReader.CarriesPorts(protocol));
    }

    public override string ToString() =>
        $"{AddressValue.ToAddress(Family, Source)}:{SourcePort} -> {AddressValue.ToAddress(Family, Destination)}:{DestinationPort} proto {Protocol}";
}
