using System.Buffers.Binary;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Wire.Proxy;

/// <summary>
/// The IKE header (RFC 7296 3.1) as KeyProxy messages use it: both SPIs are the seed's reserved value 100,
/// version 2.0, a private-use exchange type (240 request, 241 key transfer), and one private-use payload
/// (128 or 129) with the critical bit set, which is the whole rest of the message.
/// </summary>
public static class KeyProxyHeader
{
    /// <summary>The seed's reserved SPI value, in both SPI fields.</summary>
    public const ulong ReservedSpi = 100;

    /// <summary>IKE header plus generic payload header.</summary>
    public const int Size = IkeHeader.Size + GenericPayloadHeaderSize;

    public const int GenericPayloadHeaderSize = 4;

    /// <summary>Private-use payload type carrying the proxy request body.</summary>
    public const PayloadType ProxyRequestPayload = (PayloadType)128;

    /// <summary>Private-use payload type carrying the sealed key transfer.</summary>
    public const PayloadType KeyTransferPayload = (PayloadType)129;

    /// <summary>Generic payload header flags byte: critical bit (RFC 7296 3.2), reserved bits zero.</summary>
    public const byte CriticalFlag = 0x80;

    /// <summary>
    /// Cheap, allocation-free recognition of a KeyProxy message in a UDP payload (the edge's classification,
    /// seed S21-S24): at least 28 bytes, both SPIs 100, version 0x20, exchange type 240 or 241, and the header's
    /// Length equal to the payload length. Everything else is <see cref="KeyProxyMessageKind.None"/>.
    /// </summary>
    public static KeyProxyMessageKind Classify(ReadOnlySpan<byte> udpPayload)
    {
        if (udpPayload.Length < IkeHeader.Size
            || BinaryPrimitives.ReadUInt64BigEndian(udpPayload) != ReservedSpi
            || BinaryPrimitives.ReadUInt64BigEndian(udpPayload[8..]) != ReservedSpi
            || udpPayload[17] != IkeHeader.Version2
            || BinaryPrimitives.ReadUInt32BigEndian(udpPayload[24..]) != (uint)udpPayload.Length)
            return KeyProxyMessageKind.None;
        return (ExchangeType)udpPayload[18] switch
        {
            ExchangeType.KeyProxyRequest => KeyProxyMessageKind.ProxyRequest,
            ExchangeType.KeyTransfer => KeyProxyMessageKind.KeyTransfer,
            _ => KeyProxyMessageKind.None,
        };
    }

    /// <summary>Writes the 28-byte IKE header and the 4-byte generic payload header.</summary>
    internal static void Write(Span<byte> destination, PayloadType payload, ExchangeType exchange, IkeFlags flags,
        uint messageId, int totalLength)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, ReservedSpi);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], ReservedSpi);
        destination[16] = (byte)payload;
        destination[17] = IkeHeader.Version2;
        destination[18] = (byte)exchange;
        destination[19] = (byte)flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], messageId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], (uint)totalLength);
        destination[28] = (byte)PayloadType.None;
        destination[29] = CriticalFlag;
        BinaryPrimitives.WriteUInt16BigEndian(destination[30..], (ushort)(totalLength - IkeHeader.Size));
    }

    /// <summary>
    /// Checks both headers strictly (SPIs, next payload, version, exchange, exact flags, lengths, the payload's
    /// next payload 0 and flags 0x80) and returns the message id and the payload body.
    /// </summary>
    internal static WireError TryRead(ReadOnlySpan<byte> message, PayloadType payload, ExchangeType exchange,
        IkeFlags flags, out uint messageId, out ReadOnlySpan<byte> body)
    {
        messageId = 0;
        body = default;
        if (message.Length < Size)
            return WireError.Truncated;
        if (BinaryPrimitives.ReadUInt64BigEndian(message) != ReservedSpi
            || BinaryPrimitives.ReadUInt64BigEndian(message[8..]) != ReservedSpi
            || message[17] != IkeHeader.Version2
            || message[18] != (byte)exchange
            || message[19] != (byte)flags)
            return WireError.BadHeader;
        if (BinaryPrimitives.ReadUInt32BigEndian(message[24..]) != (uint)message.Length)
            return WireError.LengthMismatch;
        if (message[16] != (byte)payload || message[28] != (byte)PayloadType.None || message[29] != CriticalFlag)
            return WireError.BadPayload;
        if (BinaryPrimitives.ReadUInt16BigEndian(message[30..]) != message.Length - IkeHeader.Size)
            return WireError.LengthMismatch;
        messageId = BinaryPrimitives.ReadUInt32BigEndian(message[20..]);
        body = message[Size..];
        return WireError.None;
    }
}
