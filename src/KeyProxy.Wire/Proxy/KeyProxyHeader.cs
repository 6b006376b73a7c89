using System.Buffers.Binary;

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

    /// <summary>The IKE header's length (RFC 7296 3.1).</summary>
    public const int IkeHeaderSize = 28;

    /// <summary>IKE header plus generic payload header.</summary>
    public const int Size = IkeHeaderSize + GenericPayloadHeaderSize;

    public const int GenericPayloadHeaderSize = 4;

    /// <summary>The version byte: major version 2, minor 0 (RFC 7296 3.1).</summary>
    public const byte Version2 = 0x20;

    /// <summary>Private-use exchange type of the key exchange proxy request, handset to edge (seed S21).</summary>
    public const byte ProxyRequestExchange = 240;

    /// <summary>Private-use exchange type of the key transfer, proxy to handset (seed claim 1).</summary>
    public const byte KeyTransferExchange = 241;

    /// <summary>The header's Initiator flag (RFC 7296 3.1): a proxy request has it and no other.</summary>
    public const byte InitiatorFlag = 0x08;

    /// <summary>The header's Response flag (RFC 7296 3.1): a key transfer has it and no other.</summary>
    public const byte ResponseFlag = 0x20;

    /// <summary>Private-use payload type carrying the proxy request body.</summary>
    public const byte ProxyRequestPayload = 128;

    /// <summary>Private-use payload type carrying the sealed key transfer.</summary>
    public const byte KeyTransferPayload = 129;

    /// <summary>Next payload "none" (RFC 7296 3.2): the one payload is the last.</summary>
    private const byte NoNextPayload = 0;

    /// <summary>Generic payload header flags byte: critical bit (RFC 7296 3.2), reserved bits zero.</summary>
    public const byte CriticalFlag = 0x80;

    /// <summary>
    /// Cheap, allocation-free recognition of a KeyProxy message in a UDP payload (the edge's classification,
    /// seed S21-S24): at least 28 bytes, both SPIs 100, version 0x20, exchange type 240 or 241, and the header's
    /// Length equal to the payload length. Everything else is <see cref="KeyProxyMessageKind.None"/>.
    /// </summary>
    public static KeyProxyMessageKind Classify(ReadOnlySpan<byte> udpPayload)
    {
        if (udpPayload.Length < IkeHeaderSize
            || BinaryPrimitives.ReadUInt64BigEndian(udpPayload) != ReservedSpi
            || BinaryPrimitives.ReadUInt64BigEndian(udpPayload[8..]) != ReservedSpi
            || udpPayload[17] != Version2
            || BinaryPrimitives.ReadUInt32BigEndian(udpPayload[24..]) != (uint)udpPayload.Length)
            return KeyProxyMessageKind.None;
        return udpPayload[18] switch
        {
            ProxyRequestExchange => KeyProxyMessageKind.ProxyRequest,
            KeyTransferExchange => KeyProxyMessageKind.KeyTransfer,
            _ => KeyProxyMessageKind.None,
        };
    }

    /// <summary>Writes the 28-byte IKE header and the 4-byte generic payload header.</summary>
    internal static void Write(Span<byte> destination, byte payload, byte exchange, byte flags,
        uint messageId, int totalLength)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, ReservedSpi);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], ReservedSpi);
        destination[16] = payload;
        destination[17] = Version2;
        destination[18] = exchange;
        destination[19] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], messageId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], (uint)totalLength);
        destination[28] = NoNextPayload;
        destination[29] = CriticalFlag;
        BinaryPrimitives.WriteUInt16BigEndian(destination[30..], (ushort)(totalLength - IkeHeaderSize));
    }

    /// <summary>
    /// Checks both headers strictly (SPIs, next payload, version, exchange, exact flags, lengths, the payload's
    /// next payload 0 and flags 0x80) and returns the message id and the payload body.
    /// </summary>
    internal static WireError TryRead(ReadOnlySpan<byte> message, byte payload, byte exchange,
        byte flags, out uint messageId, out ReadOnlySpan<byte> body)
    {
        messageId = 0;
        body = default;
        if (message.Length < Size)
            return WireError.Truncated;
        if (BinaryPrimitives.ReadUInt64BigEndian(message) != ReservedSpi
            || BinaryPrimitives.ReadUInt64BigEndian(message[8..]) != ReservedSpi
            || message[17] != Version2
            || message[18] != exchange
            || message[19] != flags)
            return WireError.BadHeader;
        if (BinaryPrimitives.ReadUInt32BigEndian(message[24..]) != (uint)message.Length)
            return WireError.LengthMismatch;
        if (message[16] != payload || message[28] != NoNextPayload || message[29] != CriticalFlag)
            return WireError.BadPayload;
        if (BinaryPrimitives.ReadUInt16BigEndian(message[30..]) != message.Length - IkeHeaderSize)
            return WireError.LengthMismatch;
        messageId = BinaryPrimitives.ReadUInt32BigEndian(message[20..]);
        body = message[Size..];
        return WireError.None;
    }
}
