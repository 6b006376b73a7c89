using System.Buffers.Binary;

namespace KeyProxy.Ipsec.Esp;

/// <summary>ESP packet layout constants and header readers (RFC 4303 2).</summary>
public static class EspPacket
{
    /// <summary>SPI (4) and Sequence Number (4).</summary>
    public const int HeaderLength = 8;

    /// <summary>Pad Length and Next Header octets of the trailer.</summary>
    public const int TrailerLength = 2;

    /// <summary>Next Header for an IPv4 packet in tunnel mode (IP-in-IP).</summary>
    public const byte NextHeaderIpv4 = 4;

    /// <summary>Next Header for an IPv6 packet in tunnel mode.</summary>
    public const byte NextHeaderIpv6 = 41;

    /// <summary>RFC 4303 2.6: "no next header", a dummy packet.</summary>
    public const byte NextHeaderNone = 59;

    /// <summary>Reads the SPI; false when the packet is shorter than an ESP header.</summary>
    public static bool TryReadSpi(ReadOnlySpan<byte> packet, out uint spi)
    {
        if (packet.Length < HeaderLength)
        {
            spi = 0;
            return false;
        }

        spi = BinaryPrimitives.ReadUInt32BigEndian(packet);
        return true;
    }

    /// <summary>Reads the low 32 bits of the sequence number carried on the wire.</summary>
    public static bool TryReadSequenceNumber(ReadOnlySpan<byte> packet, out uint sequenceNumber)
    {
        if (packet.Length < HeaderLength)
        {
            sequenceNumber = 0;
            return false;
        }

        sequenceNumber = BinaryPrimitives.ReadUInt32BigEndian(packet[4..]);
        return true;
    }

    /// <summary>Next Header for a tunnel-mode inner packet from its version nibble; 0 when it is neither IPv4 nor IPv6.</summary>
    public static byte TunnelNextHeader(ReadOnlySpan<byte> innerPacket) =>
        innerPacket.IsEmpty ? (byte)0 : (innerPacket[0] >> 4) switch
        {
            4 => NextHeaderIpv4,
            6 => NextHeaderIpv6,
            _ => (byte)0,
        };
}
