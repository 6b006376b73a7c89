using System.Buffers.Binary;

namespace KeyProxy.Ipsec.Udp;

/// <summary>UDP encapsulation of ESP (RFC 3948): classifying what arrives on port 4500 and building NAT-keepalives.</summary>
public static class UdpEncapsulation
{
    /// <summary>The IKE NAT-T port that carries ESP-in-UDP (RFC 3948 2, RFC 7296 2.23).</summary>
    public const ushort NatTraversalPort = 4500;

    public const int NonEspMarkerLength = 4;

    public const byte NatKeepaliveOctet = 0xFF;

    /// <summary>Smallest IKE message: its fixed header (RFC 7296 3.1).</summary>
    private const int IkeHeaderLength = 28;

    /// <summary>SPI and Sequence Number.</summary>
    private const int EspHeaderLength = 8;

    /// <summary>Classifies a UDP payload received on the NAT-T port (RFC 3948 2.1-2.3). Allocation-free.</summary>
    public static NatTPayloadKind Classify(ReadOnlySpan<byte> udpPayload)
    {
        if (udpPayload.Length == 1)
        {
            return udpPayload[0] == NatKeepaliveOctet ? NatTPayloadKind.NatKeepalive : NatTPayloadKind.Malformed;
        }

        if (udpPayload.Length < NonEspMarkerLength)
        {
            return NatTPayloadKind.Malformed;
        }

        if (BinaryPrimitives.ReadUInt32BigEndian(udpPayload) == 0)
        {
            return udpPayload.Length >= NonEspMarkerLength + IkeHeaderLength ? NatTPayloadKind.Ike : NatTPayloadKind.Malformed;
        }

        return udpPayload.Length >= EspHeaderLength ? NatTPayloadKind.Esp : NatTPayloadKind.Malformed;
    }

    /// <summary>The IKE message after the non-ESP marker; empty when <paramref name="udpPayload"/> is not <see cref="NatTPayloadKind.Ike"/>.</summary>
    public static ReadOnlySpan<byte> IkeMessage(ReadOnlySpan<byte> udpPayload) =>
        Classify(udpPayload) == NatTPayloadKind.Ike ? udpPayload[NonEspMarkerLength..] : default;

    /// <summary>Writes a NAT-keepalive (RFC 3948 2.3) and returns its length, 1; 0 when the destination is empty.</summary>
    public static int WriteNatKeepalive(Span<byte> destination)
    {
        if (destination.IsEmpty)
        {
            return 0;
        }

        destination[0] = NatKeepaliveOctet;
        return 1;
    }

    /// <summary>Writes the non-ESP marker and <paramref name="ikeMessage"/>; returns bytes written, 0 when the destination is too small.</summary>
    public static int WriteIke(ReadOnlySpan<byte> ikeMessage, Span<byte> destination)
    {
        if (destination.Length < NonEspMarkerLength + ikeMessage.Length)
        {
            return 0;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, 0);
        ikeMessage.CopyTo(destination[NonEspMarkerLength..]);
        return NonEspMarkerLength + ikeMessage.Length;
    }
}
