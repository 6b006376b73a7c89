using System.Buffers.Binary;

namespace KeyProxy.Wire.Ip;

/// <summary>
/// Builds an IPv4 (20-byte header, DF set) or IPv6 packet carrying one UDP datagram into a caller span, with
/// the IPv4 header checksum (RFC 791) and the UDP checksum over the pseudo-header (RFC 768, RFC 8200 8.1).
/// </summary>
public static class UdpPacketWriter
{
    /// <summary>IP plus UDP header bytes before the payload: 28 (IPv4) or 48 (IPv6).</summary>
    public static int HeaderSize(IpFamily family) =>
        (family == IpFamily.V6 ? Ipv6Header.Size : Ipv4Header.MinSize) + UdpDatagram.HeaderSize;

    /// <summary>
    /// Writes the packet and returns its length in <paramref name="written"/>. The payload may already sit at
    /// <c>destination[HeaderSize(family)..]</c> (it is then left in place), or anywhere else.
    /// </summary>
    public static PacketError TryWrite(Span<byte> destination, IpAddressValue source, ushort sourcePort,
        IpAddressValue destinationAddress, ushort destinationPort, ReadOnlySpan<byte> payload, out int written,
        byte hopLimit = 64)
    {
        written = 0;
        if (source.Family != destinationAddress.Family || source.Family == IpFamily.None)
            return PacketError.BadVersion;
        int header = HeaderSize(source.Family);
        int udpLength = UdpDatagram.HeaderSize + payload.Length;
        int total = header + payload.Length;
        if (total > destination.Length)
            return PacketError.DestinationTooSmall;
        if (source.IsV4 ? total > ushort.MaxValue : udpLength > ushort.MaxValue)
            return PacketError.DestinationTooSmall;

        payload.CopyTo(destination[header..]);
        int ipHeader = header - UdpDatagram.HeaderSize;
        var udp = destination.Slice(ipHeader, udpLength);
        BinaryPrimitives.WriteUInt16BigEndian(udp, sourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[2..], destinationPort);
        BinaryPrimitives.WriteUInt16BigEndian(udp[4..], (ushort)udpLength);
        udp[6] = 0;
        udp[7] = 0;
        ushort checksum = (ushort)~UdpDatagram.PseudoHeaderSum(source, destinationAddress, udp);
        // RFC 768: a computed zero is sent as all ones (zero means "no checksum").
        BinaryPrimitives.WriteUInt16BigEndian(udp[6..], checksum == 0 ? (ushort)0xFFFF : checksum);

        if (source.IsV4)
            Ipv4Header.Write(destination, (uint)source.Value, (uint)destinationAddress.Value, IpPacket.Udp, (ushort)total, hopLimit);
        else
            Ipv6Header.Write(destination, source.Value, destinationAddress.Value, IpPacket.Udp, (ushort)udpLength, hopLimit);
        written = total;
        return PacketError.None;
    }
}
