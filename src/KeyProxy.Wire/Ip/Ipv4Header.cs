using System.Buffers.Binary;

namespace KeyProxy.Wire.Ip;

/// <summary>Constants and field offsets of the IPv4 header (RFC 791 3.1).</summary>
public static class Ipv4Header
{
    public const int MinSize = 20;
    public const int MaxSize = 60;
    public const int TotalLengthOffset = 2;
    public const int FlagsOffset = 6;
    public const int TtlOffset = 8;
    public const int ProtocolOffset = 9;
    public const int ChecksumOffset = 10;
    public const int SourceOffset = 12;
    public const int DestinationOffset = 16;

    /// <summary>Flags/fragment offset word: DF bit.</summary>
    public const ushort DontFragment = 0x4000;

    /// <summary>Flags/fragment offset word: MF bit.</summary>
    public const ushort MoreFragments = 0x2000;

    public const ushort FragmentOffsetMask = 0x1FFF;

    /// <summary>
    /// Writes a 20-byte header (no options) with its checksum. <paramref name="totalLength"/> covers header and payload.
    /// </summary>
    public static void Write(Span<byte> destination, uint source, uint destinationAddress, byte protocol,
        ushort totalLength, byte ttl = 64, ushort identification = 0, bool dontFragment = true, byte typeOfService = 0)
    {
        var h = destination[..MinSize];
        h[0] = 0x45;
        h[1] = typeOfService;
        BinaryPrimitives.WriteUInt16BigEndian(h[2..], totalLength);
        BinaryPrimitives.WriteUInt16BigEndian(h[4..], identification);
        BinaryPrimitives.WriteUInt16BigEndian(h[6..], dontFragment ? DontFragment : (ushort)0);
        h[8] = ttl;
        h[9] = protocol;
        h[10] = 0;
        h[11] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(h[12..], source);
        BinaryPrimitives.WriteUInt32BigEndian(h[16..], destinationAddress);
        BinaryPrimitives.WriteUInt16BigEndian(h[10..], InternetChecksum.Compute(h));
    }
}
