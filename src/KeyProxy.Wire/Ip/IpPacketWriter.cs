namespace KeyProxy.Wire.Ip;

/// <summary>
/// Writes the IPv4 (20-byte header, DF set, RFC 791) or IPv6 (RFC 8200) header in front of a payload that already sits at
/// <c>destination[HeaderSize(family)..]</c>, for any protocol, e.g. plain ESP (IP protocol 50, RFC 4303).
/// </summary>
public static class IpPacketWriter
{
    /// <summary>Header bytes before the payload: 20 (IPv4) or 40 (IPv6).</summary>
    public static int HeaderSize(IpFamily family) => family == IpFamily.V6 ? Ipv6Header.Size : Ipv4Header.MinSize;

    /// <summary>Writes the header for a <paramref name="payloadLength"/>-byte payload in place and returns the packet's length in <paramref name="written"/>.</summary>
    public static PacketError TryWriteHeader(Span<byte> destination, IpAddressValue source, IpAddressValue destinationAddress,
        byte protocol, int payloadLength, out int written, byte hopLimit = 64)
    {
        written = 0;
        if (source.Family != destinationAddress.Family || source.Family == IpFamily.None)
            return PacketError.BadVersion;
        int header = HeaderSize(source.Family);
        int total = header + payloadLength;
        if (payloadLength < 0 || total > destination.Length)
            return PacketError.DestinationTooSmall;
        if (source.IsV4 ? total > ushort.MaxValue : payloadLength > ushort.MaxValue)
            return PacketError.DestinationTooSmall;
        if (source.IsV4)
            Ipv4Header.Write(destination, (uint)source.Value, (uint)destinationAddress.Value, protocol, (ushort)total, hopLimit);
        else
            Ipv6Header.Write(destination, source.Value, destinationAddress.Value, protocol, (ushort)payloadLength, hopLimit);
        written = total;
        return PacketError.None;
    }
}
