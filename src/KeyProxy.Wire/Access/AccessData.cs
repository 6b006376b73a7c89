using KeyProxy.Wire.Ip;

namespace KeyProxy.Wire.Access;

/// <summary>
/// The allocation-free Data path (type 0x10): access header then one inner IPv4/IPv6 packet.
/// </summary>
public static class AccessData
{
    public const int HeaderSize = AccessHeader.Size;

    /// <summary>
    /// Reads a Data datagram: header checks (version, flags, type Data, tunnel id not 0) and a non-empty inner packet.
    /// Any other type gives <see cref="WireError.UnknownType"/> so the caller can fall back to <see cref="AccessMessage.TryParse"/>.
    /// </summary>
    public static WireError TryRead(ReadOnlySpan<byte> datagram, out uint tunnelId, out ReadOnlySpan<byte> packet)
    {
        tunnelId = 0;
        packet = default;
        var error = AccessHeader.TryRead(datagram, out var header);
        if (error != WireError.None)
            return error;
        if (header.Type != AccessMessageType.Data)
            return WireError.UnknownType;
        if (header.TunnelId == 0)
            return WireError.BadValue;
        if (datagram.Length == AccessHeader.Size)
            return WireError.Truncated;
        tunnelId = header.TunnelId;
        packet = datagram[AccessHeader.Size..];
        return WireError.None;
    }

    /// <summary>Writes the 8-byte Data header; the inner packet goes at <c>destination[8..]</c>.</summary>
    public static void WriteHeader(Span<byte> destination, uint tunnelId) =>
        new AccessHeader(AccessMessageType.Data, tunnelId).WriteTo(destination);

    /// <summary>Writes header and inner packet (which may already be in place at offset 8).</summary>
    public static WireError TryWrite(Span<byte> destination, uint tunnelId, ReadOnlySpan<byte> packet, out int written)
    {
        written = 0;
        if (tunnelId == 0 || packet.IsEmpty)
            return WireError.BadValue;
        if (destination.Length < HeaderSize + packet.Length)
            return WireError.DestinationTooSmall;
        packet.CopyTo(destination[HeaderSize..]);
        WriteHeader(destination, tunnelId);
        written = HeaderSize + packet.Length;
        return WireError.None;
    }

    /// <summary>
    /// The edge's anti-spoofing check: does the inner packet's source address equal the tunnel's handset address?
    /// Reads the version nibble and the source field only (see <see cref="IpPacket.HasSource"/>).
    /// </summary>
    public static bool SourceMatches(ReadOnlySpan<byte> packet, in IpAddressValue handsetAddress) =>
        IpPacket.HasSource(packet, handsetAddress);
}
