using System.Buffers.Binary;
using System.Net.Sockets;

namespace KeyProxy.Ipsec.Policy;

/// <summary>
/// Just enough IPv4 / IPv6 parsing to get a packet's selector fields: addresses, protocol (after IPv6 extension
/// headers), and the first four bytes of TCP, UDP, SCTP or UDP-Lite for the ports. Allocation-free. The full
/// packet codec lives in KeyProxy.Wire.
/// </summary>
internal static class InnerPacketReader
{
    private const byte HopByHop = 0;
    private const byte Routing = 43;
    private const byte Fragment = 44;
    private const byte DestinationOptions = 60;

    public static bool CarriesPorts(byte protocol) => protocol is 6 or 17 or 132 or 136;

    public static bool TryRead(ReadOnlySpan<byte> packet, out PacketSelector selector)
    {
        selector = default;
        if (packet.IsEmpty)
        {
            return false;
        }

        return (packet[0] >> 4) switch
        {
            4 => TryReadV4(packet, out selector),
            6 => TryReadV6(packet, out selector),
            _ => false,
        };
    }

    private static bool TryReadV4(ReadOnlySpan<byte> packet, out PacketSelector selector)
    {
        selector = default;
        var headerLength = (packet[0] & 0x0F) * 4;
        if (headerLength < 20 || packet.Length < headerLength)
        {
            return false;
        }

        var protocol = packet[9];
        var source = BinaryPrimitives.ReadUInt32BigEndian(packet[12..]);
        var destination = BinaryPrimitives.ReadUInt32BigEndian(packet[16..]);
        var fragmentOffset = BinaryPrimitives.ReadUInt16BigEndian(packet[6..]) & 0x1FFF;
        var (hasPorts, sourcePort, destinationPort) = fragmentOffset == 0
            ? Ports(protocol, packet[headerLength..])
            : (false, (ushort)0, (ushort)0);
        selector = new PacketSelector(AddressFamily.InterNetwork, source, destination, protocol, sourcePort, destinationPort, hasPorts);
        return true;
    }

    private static bool TryReadV6(ReadOnlySpan<byte> packet, out PacketSelector selector)
    {
        selector = default;
        if (packet.Length < 40)
        {
            return false;
        }

        var source = BinaryPrimitives.ReadUInt128BigEndian(packet[8..]);
        var destination = BinaryPrimitives.ReadUInt128BigEndian(packet[24..]);
        var next = packet[6];
        var offset = 40;
        var initialFragment = true;
        for (var hops = 0; hops < 8 && next is HopByHop or Routing or Fragment or DestinationOptions; hops++)
        {
            if (packet.Length < offset + 8)
            {
                return false;
            }

            var header = packet[offset..];
            if (next == Fragment)
            {
                initialFragment &= (BinaryPrimitives.ReadUInt16BigEndian(header[2..]) & 0xFFF8) == 0;
                next = header[0];
                offset += 8;
            }
            else
            {
                next = header[0];
                offset += (header[1] + 1) * 8;
            }
        }

        if (offset > packet.Length)
        {
            return false;
        }

        var (hasPorts, sourcePort, destinationPort) = initialFragment
            ? Ports(next, packet[offset..])
            : (false, (ushort)0, (ushort)0);
        selector = new PacketSelector(AddressFamily.InterNetworkV6, source, destination, next, sourcePort, destinationPort, hasPorts);
        return true;
    }

    private static (bool HasPorts, ushort Source, ushort Destination) Ports(byte protocol, ReadOnlySpan<byte> transport) =>
        CarriesPorts(protocol) && transport.Length >= 4
            ? (true, BinaryPrimitives.ReadUInt16BigEndian(transport), BinaryPrimitives.ReadUInt16BigEndian(transport[2..]))
            : (false, (ushort)0, (ushort)0);
}
