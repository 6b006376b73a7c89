using System.Buffers.Binary;

namespace KeyProxy.Wire.Access;

/// <summary>
/// The 8-byte access-link header: version (1), type, flags (u16, zero in version 1), tunnel id (u32, 0 before attach).
/// </summary>
public readonly record struct AccessHeader(AccessMessageType Type, uint TunnelId)
{
    public const int Size = 8;
    public const byte Version = 1;

    /// <summary>Allocation-free check of version, flags and type; the body is not looked at.</summary>
    public static WireError TryRead(ReadOnlySpan<byte> datagram, out AccessHeader header)
    {
        header = default;
        if (datagram.Length < Size)
            return WireError.Truncated;
        if (datagram[0] != Version)
            return WireError.BadVersion;
        if (BinaryPrimitives.ReadUInt16BigEndian(datagram[2..]) != 0)
            return WireError.UnknownFlags;
        var type = (AccessMessageType)datagram[1];
        if (!IsDefined(type))
            return WireError.UnknownType;
        header = new AccessHeader(type, BinaryPrimitives.ReadUInt32BigEndian(datagram[4..]));
        return WireError.None;
    }

    public void WriteTo(Span<byte> destination)
    {
        destination[0] = Version;
        destination[1] = (byte)Type;
        destination[2] = 0;
        destination[3] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], TunnelId);
    }

    static bool IsDefined(AccessMessageType type) =>
        type is >= AccessMessageType.AttachRequest and <= AccessMessageType.EchoReply
            or AccessMessageType.Data or AccessMessageType.ProxyRefusal;
}
