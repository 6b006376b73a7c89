using System.Buffers.Binary;

namespace KeyProxy.Wire.Ip;

/// <summary>Constants and field offsets of the IPv6 fixed header (RFC 8200 3).</summary>
public static class Ipv6Header
{
    public const int Size = 40;
    public const int PayloadLengthOffset = 4;
    public const int NextHeaderOffset = 6;
    public const int HopLimitOffset = 7;
    public const int SourceOffset = 8;
    public const int DestinationOffset = 24;

    /// <summary>Next header value of the Fragment extension header (RFC 8200 4.5).</summary>
    public const byte FragmentHeader = 44;

    /// <summary>
    /// True for the extension headers of RFC 8200 4 and the IANA "IPv6 Extension Header Types" registry
    /// (Hop-by-Hop 0, Routing 43, Fragment 44, Destination Options 60, AH 51, Mobility 135, HIP 139, Shim6 140,
    /// experimental 253/254). ESP (50) and No Next Header (59) end the chain and are not counted here.
    /// </summary>
    public static bool IsExtensionHeader(byte nextHeader) =>
        nextHeader is 0 or 43 or 44 or 51 or 60 or 135 or 139 or 140 or 253 or 254;

    /// <summary>Writes the 40-byte fixed header.</summary>
    public static void Write(Span<byte> destination, UInt128 source, UInt128 destinationAddress, byte nextHeader,
        ushort payloadLength, byte hopLimit = 64, byte trafficClass = 0, uint flowLabel = 0)
    {
        var h = destination[..Size];
        BinaryPrimitives.WriteUInt32BigEndian(h, (6u << 28) | ((uint)trafficClass << 20) | (flowLabel & 0xFFFFF));
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], payloadLength);
        h[6] = nextHeader;
        h[7] = hopLimit;
        BinaryPrimitives.WriteUInt128BigEndian(h[8..], source);
        BinaryPrimitives.WriteUInt128BigEndian(h[24..], destinationAddress);
    }
}
