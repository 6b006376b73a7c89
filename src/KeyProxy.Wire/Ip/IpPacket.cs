using System.Buffers.Binary;

namespace KeyProxy.Wire.Ip;

/// <summary>
/// An allocation-free view of one IPv4 (RFC 791) or IPv6 (RFC 8200, fixed header only) packet over a span.
/// <see cref="Packet"/> is the packet as its length field says (link padding after it is ignored),
/// <see cref="Payload"/> what follows the header.
/// </summary>
public readonly ref struct IpPacket
{
    public IpFamily Family { get; init; }
    public IpAddressValue Source { get; init; }
    public IpAddressValue Destination { get; init; }

    /// <summary>IPv4 Protocol or IPv6 Next Header.</summary>
    public byte Protocol { get; init; }

    /// <summary>IPv4 TTL or IPv6 Hop Limit.</summary>
    public byte HopLimit { get; init; }

    /// <summary>IPv4 Type of Service or IPv6 Traffic Class.</summary>
    public byte TrafficClass { get; init; }

    /// <summary>IPv4 Identification (0 for IPv6).</summary>
    public ushort Identification { get; init; }

    /// <summary>IPv4 DF bit.</summary>
    public bool DontFragment { get; init; }

    public int HeaderLength { get; init; }
    public ReadOnlySpan<byte> Packet { get; init; }
    public ReadOnlySpan<byte> Payload => Packet[HeaderLength..];

    public const byte Udp = 17;

    /// <summary>ESP's protocol number (RFC 4303 2): plain ESP, not in UDP.</summary>
    public const byte Esp = 50;

    /// <summary>
    /// Reads an IPv4 or IPv6 packet by its version nibble. On <see cref="PacketError.Fragment"/> and
    /// <see cref="PacketError.ExtensionHeader"/> the header fields are filled in (the packet is routable);
    /// on any other error <paramref name="packet"/> is <c>default</c>.
    /// </summary>
    public static PacketError TryRead(ReadOnlySpan<byte> data, out IpPacket packet)
    {
        packet = default;
        if (data.IsEmpty)
            return PacketError.Truncated;
        return (data[0] >> 4) switch
        {
            4 => TryReadV4(data, out packet),
            6 => TryReadV6(data, out packet),
            _ => PacketError.BadVersion,
        };
    }

    /// <summary>IPv4 (RFC 791 3.1): version, IHL, Total Length and header checksum are checked; fragments are reported.</summary>
    public static PacketError TryReadV4(ReadOnlySpan<byte> data, out IpPacket packet)
    {
        packet = default;
        if (data.IsEmpty)
            return PacketError.Truncated;
        if (data[0] >> 4 != 4)
            return PacketError.BadVersion;
        if (data.Length < Ipv4Header.MinSize)
            return PacketError.Truncated;
        int headerLength = (data[0] & 0x0F) * 4;
        if (headerLength < Ipv4Header.MinSize || headerLength > data.Length)
            return PacketError.BadHeaderLength;
        int totalLength = BinaryPrimitives.ReadUInt16BigEndian(data[Ipv4Header.TotalLengthOffset..]);
        if (totalLength < headerLength || totalLength > data.Length)
            return PacketError.BadLength;
        if (InternetChecksum.Compute(data[..headerLength]) != 0)
            return PacketError.BadHeaderChecksum;

        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(data[Ipv4Header.FlagsOffset..]);
        packet = new IpPacket
        {
            Family = IpFamily.V4,
            TrafficClass = data[1],
            Identification = BinaryPrimitives.ReadUInt16BigEndian(data[4..]),
            DontFragment = (flags & Ipv4Header.DontFragment) != 0,
            HopLimit = data[Ipv4Header.TtlOffset],
            Protocol = data[Ipv4Header.ProtocolOffset],
            Source = IpAddressValue.FromV4(BinaryPrimitives.ReadUInt32BigEndian(data[Ipv4Header.SourceOffset..])),
            Destination = IpAddressValue.FromV4(BinaryPrimitives.ReadUInt32BigEndian(data[Ipv4Header.DestinationOffset..])),
            HeaderLength = headerLength,
            Packet = data[..totalLength],
        };
        return (flags & (Ipv4Header.MoreFragments | Ipv4Header.FragmentOffsetMask)) != 0 ? PacketError.Fragment : PacketError.None;
    }

    /// <summary>IPv6 fixed header (RFC 8200 3): version and Payload Length are checked; extension headers are reported, not skipped.</summary>
    public static PacketError TryReadV6(ReadOnlySpan<byte> data, out IpPacket packet)
    {
        packet = default;
        if (data.IsEmpty)
            return PacketError.Truncated;
        if (data[0] >> 4 != 6)
            return PacketError.BadVersion;
        if (data.Length < Ipv6Header.Size)
            return PacketError.Truncated;
        int payloadLength = BinaryPrimitives.ReadUInt16BigEndian(data[Ipv6Header.PayloadLengthOffset..]);
        if (payloadLength > data.Length - Ipv6Header.Size)
            return PacketError.BadLength;

        byte next = data[Ipv6Header.NextHeaderOffset];
        packet = new IpPacket
        {
            Family = IpFamily.V6,
            TrafficClass = (byte)(BinaryPrimitives.ReadUInt16BigEndian(data) >> 4),
            HopLimit = data[Ipv6Header.HopLimitOffset],
            Protocol = next,
            Source = new IpAddressValue(IpFamily.V6, BinaryPrimitives.ReadUInt128BigEndian(data[Ipv6Header.SourceOffset..])),
            Destination = new IpAddressValue(IpFamily.V6, BinaryPrimitives.ReadUInt128BigEndian(data[Ipv6Header.DestinationOffset..])),
            HeaderLength = Ipv6Header.Size,
            Packet = data[..(Ipv6Header.Size + payloadLength)],
        };
        if (next == Ipv6Header.FragmentHeader)
            return PacketError.Fragment;
        return Ipv6Header.IsExtensionHeader(next) ? PacketError.ExtensionHeader : PacketError.None;
    }

    /// <summary>
    /// The cheap source check of the access link (docs/wire.md, "Data"): true when <paramref name="packet"/>
    /// starts like an IPv4/IPv6 header whose source address is <paramref name="expected"/>. Reads only the version
    /// nibble and the source field; the packet is not otherwise validated.
    /// </summary>
    public static bool HasSource(ReadOnlySpan<byte> packet, in IpAddressValue expected)
    {
        if (packet.IsEmpty)
            return false;
        return (packet[0] >> 4) switch
        {
            4 => packet.Length >= Ipv4Header.MinSize && expected.Equals(packet.Slice(Ipv4Header.SourceOffset, 4)),
            6 => packet.Length >= Ipv6Header.Size && expected.Equals(packet.Slice(Ipv6Header.SourceOffset, 16)),
            _ => false,
        };
    }
}
