using System.Buffers.Binary;

namespace KeyProxy.Wire.Ip;

/// <summary>An allocation-free view of a UDP datagram (RFC 768) inside an <see cref="IpPacket"/>.</summary>
public readonly ref struct UdpDatagram
{
    public const int HeaderSize = 8;

    public ushort SourcePort { get; init; }
    public ushort DestinationPort { get; init; }

    /// <summary>The UDP Length field: header plus payload.</summary>
    public ushort Length { get; init; }
    public ushort Checksum { get; init; }
    public ReadOnlySpan<byte> Payload { get; init; }

    /// <summary>
    /// Reads the UDP header from the IP payload. The UDP Length must equal the IP payload length. With
    /// <paramref name="verifyChecksum"/> the checksum is checked over the RFC 768 (IPv4) or RFC 8200 8.1 (IPv6)
    /// pseudo-header; a zero checksum means "none" over IPv4 and is an error over IPv6.
    /// </summary>
    public static PacketError TryRead(in IpPacket ip, out UdpDatagram datagram, bool verifyChecksum = true)
    {
        datagram = default;
        if (ip.Protocol != IpPacket.Udp)
            return PacketError.NotUdp;
        var segment = ip.Payload;
        if (segment.Length < HeaderSize)
            return PacketError.Truncated;
        ushort length = BinaryPrimitives.ReadUInt16BigEndian(segment[4..]);
        if (length != segment.Length)
            return PacketError.BadLength;
        ushort checksum = BinaryPrimitives.ReadUInt16BigEndian(segment[6..]);
        if (checksum == 0)
        {
            if (ip.Family == IpFamily.V6)
                return PacketError.BadChecksum;
        }
        else if (verifyChecksum && PseudoHeaderSum(ip.Source, ip.Destination, segment) != 0xFFFF)
        {
            return PacketError.BadChecksum;
        }

        datagram = new UdpDatagram
        {
            SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment),
            DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]),
            Length = length,
            Checksum = checksum,
            Payload = segment[HeaderSize..],
        };
        return PacketError.None;
    }

    /// <summary>
    /// The one's complement sum of the pseudo-header (addresses, protocol 17, UDP length) and the UDP segment
    /// (RFC 768; RFC 8200 8.1). A segment whose checksum field is correct sums to 0xFFFF.
    /// </summary>
    public static ushort PseudoHeaderSum(in IpAddressValue source, in IpAddressValue destination, ReadOnlySpan<byte> segment)
    {
        var sum = new InternetChecksum();
        sum.AddAddress(source);
        sum.AddAddress(destination);
        sum.AddUInt16(IpPacket.Udp);
        sum.AddUInt32((uint)segment.Length);
        sum.Add(segment);
        return sum.Sum();
    }
}
