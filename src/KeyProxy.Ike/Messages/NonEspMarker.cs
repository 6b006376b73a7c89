using System.Buffers.Binary;

namespace KeyProxy.Ike.Messages;

/// <summary>
/// The non-ESP marker of UDP encapsulation (RFC 3948 2.2): on port 4500, IKE messages are preceded by
/// four zero octets, where an ESP packet has its (never zero) SPI (RFC 3948 2.1, RFC 4303 2.1).
/// A one-octet 0xFF payload is a NAT-keepalive (RFC 3948 2.3).
/// </summary>
public static class NonEspMarker
{
    public const int Length = 4;

    /// <summary>
    /// True when <paramref name="udpPayload"/> starts with the marker; <paramref name="ike"/> is then what follows it.
    /// False when it is ESP (nonzero SPI) or too short to be either (a keepalive, or garbage).
    /// </summary>
    public static bool TryStrip(ReadOnlyMemory<byte> udpPayload, out ReadOnlyMemory<byte> ike)
    {
        if (udpPayload.Length >= Length && BinaryPrimitives.ReadUInt32BigEndian(udpPayload.Span) == 0)
        {
            ike = udpPayload[Length..];
            return true;
        }

        ike = default;
        return false;
    }

    /// <summary>RFC 3948 2.3: a NAT-keepalive is a single 0xFF octet.</summary>
    public static bool IsNatKeepalive(ReadOnlySpan<byte> udpPayload) => udpPayload.Length == 1 && udpPayload[0] == 0xFF;

    /// <summary>Returns marker + <paramref name="ike"/>.</summary>
    public static byte[] Prepend(ReadOnlySpan<byte> ike)
    {
        var result = new byte[Length + ike.Length];
        ike.CopyTo(result.AsSpan(Length));
        return result;
    }

    /// <summary>Writes marker + <paramref name="ike"/> into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> ike, Span<byte> destination)
    {
        if (destination.Length < Length + ike.Length)
            throw new ArgumentException("destination too small for marker and message", nameof(destination));
        BinaryPrimitives.WriteUInt32BigEndian(destination, 0);
        ike.CopyTo(destination[Length..]);
        return Length + ike.Length;
    }
}
