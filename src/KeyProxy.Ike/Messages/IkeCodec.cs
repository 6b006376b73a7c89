using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace KeyProxy.Ike.Messages;

/// <summary>
/// IKEv2 message codec (RFC 7296 3, RFC 7383 2.5). Decoding never throws for any input: it returns false
/// with an <see cref="IkeParseError"/>. Decoded byte fields are slices of the input, not copies, so the
/// input must not be reused while the message is alive. Encoding throws <see cref="ArgumentException"/>
/// for payloads that cannot be represented (programming errors, not peer input).
/// </summary>
public static partial class IkeCodec
{
    /// <summary>Most payloads accepted in one chain (outer or inner).</summary>
    public const int MaxPayloads = 64;

    public const int MaxProposals = 64;

    /// <summary>strongSwan's default proposals have about 40 transforms.</summary>
    public const int MaxTransformsPerProposal = 128;

    public const int MaxAttributesPerTransform = 16;

    public const int MaxTrafficSelectors = 64;

    public const int MaxDeleteSpis = 1024;

    /// <summary>RFC 7296 3.9: nonces are 16 to 256 octets.</summary>
    public const int MinNonceLength = 16;

    public const int MaxNonceLength = 256;

    /// <summary>SK generic header: Next Payload, C + RESERVED, Payload Length (RFC 7296 3.14).</summary>
    public const int EncryptedHeaderSize = 4;

    /// <summary>SKF generic header plus Fragment Number and Total Fragments (RFC 7383 2.5).</summary>
    public const int EncryptedFragmentHeaderSize = 8;

    /// <summary>
    /// Reads the 28-byte header (RFC 7296 3.1). The header's Length must equal the datagram length exactly:
    /// longer is <see cref="IkeParseErrorKind.Truncated"/>, shorter (trailing bytes) is <see cref="IkeParseErrorKind.LengthMismatch"/>.
    /// Only the major version is checked (minor is ignored, RFC 7296 2.5). Reserved flag bits are dropped.
    /// When the datagram holds at least 28 bytes, <paramref name="header"/> is filled even on failure, so a
    /// responder can answer INVALID_MAJOR_VERSION with the right SPIs.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> datagram, out IkeHeader header, out IkeParseError error)
    {
        if (datagram.Length < IkeHeader.Size)
        {
            header = default;
            error = new(IkeParseErrorKind.Truncated, datagram.Length, "shorter than the 28-byte IKE header");
            return false;
        }

        header = new IkeHeader(
            BinaryPrimitives.ReadUInt64BigEndian(datagram),
            BinaryPrimitives.ReadUInt64BigEndian(datagram[8..]),
            (PayloadType)datagram[16],
            (ExchangeType)datagram[18],
            (IkeFlags)(datagram[19] & (byte)(IkeFlags.Initiator | IkeFlags.Version | IkeFlags.Response)),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[20..]),
            BinaryPrimitives.ReadUInt32BigEndian(datagram[24..]));

        if (datagram[17] >> 4 != 2)
        {
            error = new(IkeParseErrorKind.UnsupportedMajorVersion, 17, $"major version {datagram[17] >> 4}");
            return false;
        }

        if (header.Length < IkeHeader.Size)
        {
            error = new(IkeParseErrorKind.LengthMismatch, 24, "header Length below 28");
            return false;
        }

        if (header.Length > (uint)datagram.Length)
        {
            error = new(IkeParseErrorKind.Truncated, datagram.Length, $"header Length {header.Length} exceeds the datagram ({datagram.Length})");
            return false;
        }

        if (header.Length < (uint)datagram.Length)
        {
            error = new(IkeParseErrorKind.LengthMismatch, (int)header.Length, $"{datagram.Length - header.Length} bytes after the message");
            return false;
        }

        error = default;
        return true;
    }

    /// <summary>
    /// Decodes a whole datagram (without the non-ESP marker): header and cleartext payload chain. An SK or
    /// SKF payload must be last and becomes <see cref="EncryptedPayload"/>/<see cref="EncryptedFragmentPayload"/>,
    /// still sealed; open it with <see cref="TryOpen"/> or <see cref="IkeFragmentReassembler"/>.
    /// <see cref="IkeMessage.Raw"/> is <paramref name="datagram"/>.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> datagram, [NotNullWhen(true)] out IkeMessage? message, out IkeParseError error)
    {
        message = null;
        if (!TryReadHeader(datagram.Span, out var header, out error))
            return false;

        var payloads = new List<IkePayload>(CountChain(datagram.Span, IkeHeader.Size, header.NextPayload));
        if (!TryReadChain(datagram, IkeHeader.Size, header.NextPayload, payloads, allowEncrypted: true, out error))
            return false;

        message = new IkeMessage
        {
            InitiatorSpi = header.InitiatorSpi,
            ResponderSpi = header.ResponderSpi,
            Exchange = header.Exchange,
            Flags = header.Flags,
            MessageId = header.MessageId,
            Payloads = payloads,
            Raw = datagram,
        };
        return true;
    }

    /// <summary>As <see cref="TryDecode"/>, throwing <see cref="IkeParseException"/> on failure.</summary>
    public static IkeMessage Decode(ReadOnlyMemory<byte> datagram) =>
        TryDecode(datagram, out var message, out var error) ? message : throw new IkeParseException(error);

    /// <summary>
    /// Decodes a payload chain that starts with a payload of type <paramref name="first"/> and fills
    /// <paramref name="chain"/> exactly (the decrypted content of SK, or reassembled SKF fragments).
    /// SK/SKF inside it are a syntax error. On failure <paramref name="into"/> may hold the payloads decoded so far.
    /// </summary>
    public static bool TryDecodePayloads(PayloadType first, ReadOnlyMemory<byte> chain, List<IkePayload> into, out IkeParseError error)
    {
        ArgumentNullException.ThrowIfNull(into);
        into.EnsureCapacity(into.Count + CountChain(chain.Span, 0, first));
        return TryReadChain(chain, 0, first, into, allowEncrypted: false, out error);
    }

    /// <summary>
    /// How many payloads the chain from <paramref name="offset"/> seems to hold, by their generic headers alone (RFC 7296 3.2),
    /// so that the list is allocated once; stops at the first header that does not fit, and at <see cref="MaxPayloads"/>.
    /// </summary>
    static int CountChain(ReadOnlySpan<byte> buffer, int offset, PayloadType next)
    {
        int count = 0;
        while (next != PayloadType.None && count < MaxPayloads && buffer.Length - offset >= PayloadWriter.GenericHeaderSize)
        {
            count++;
            if (next is PayloadType.Encrypted or PayloadType.EncryptedFragment) break;
            int length = BinaryPrimitives.ReadUInt16BigEndian(buffer[(offset + 2)..]);
            if (length < PayloadWriter.GenericHeaderSize) break;
            next = (PayloadType)buffer[offset];
            offset += length;
        }
        return count;
    }

    /// <summary>RFC 7296 3.2: walks generic payload headers from <paramref name="offset"/> to the end of <paramref name="buffer"/>.</summary>
    static bool TryReadChain(ReadOnlyMemory<byte> buffer, int offset, PayloadType next, List<IkePayload> into,
        bool allowEncrypted, out IkeParseError error)
    {
        var span = buffer.Span;
        int count = 0;
        while (next != PayloadType.None)
        {
            if (++count > MaxPayloads)
            {
                error = new(IkeParseErrorKind.TooManyPayloads, offset, $"more than {MaxPayloads} payloads");
                return false;
            }

            if (span.Length - offset < PayloadWriter.GenericHeaderSize)
            {
                error = new(IkeParseErrorKind.Truncated, offset, $"{next} payload header truncated");
                return false;
            }

            var following = (PayloadType)span[offset];
            bool critical = (span[offset + 1] & 0x80) != 0; // other bits of that octet are RESERVED: ignored
            int length = BinaryPrimitives.ReadUInt16BigEndian(span[(offset + 2)..]);
            if (length < PayloadWriter.GenericHeaderSize || length > span.Length - offset)
            {
                error = new(IkeParseErrorKind.BadPayloadLength, offset + 2, $"{next} payload length {length} out of range");
                return false;
            }

            if (next is PayloadType.Encrypted or PayloadType.EncryptedFragment)
                return TryReadEncrypted(buffer, offset, next, following, critical, length, into, allowEncrypted, out error);

            if (!PayloadReader.TryRead(next, critical, buffer.Slice(offset + 4, length - 4), offset + 4, out var payload, out error))
                return false;

            into.Add(payload);
            offset += length;
            next = following;
        }

        if (offset != span.Length)
        {
            error = new(IkeParseErrorKind.LengthMismatch, offset, "bytes after the last payload");
            return false;
        }

        error = default;
        return true;
    }

    /// <summary>
    /// SK (RFC 7296 3.14) or SKF (RFC 7383 2.5): must be the last payload, so it runs to the end of the buffer.
    /// Its Next Payload is the first inner payload's type. The body (IV onwards) stays sealed.
    /// </summary>
    static bool TryReadEncrypted(ReadOnlyMemory<byte> buffer, int offset, PayloadType type, PayloadType firstInner,
        bool critical, int length, List<IkePayload> into, bool allowEncrypted, out IkeParseError error)
    {
        if (!allowEncrypted)
        {
            error = new(IkeParseErrorKind.BadPayloadSyntax, offset, $"{type} payload inside an encrypted payload");
            return false;
        }

        if (offset + length != buffer.Length)
        {
            error = new(IkeParseErrorKind.PayloadAfterEncrypted, offset + length, $"payload after the {type} payload");
            return false;
        }

        if (type == PayloadType.Encrypted)
        {
            into.Add(new EncryptedPayload(firstInner, offset + EncryptedHeaderSize) { Critical = critical });
            error = default;
            return true;
        }

        if (length < EncryptedFragmentHeaderSize)
        {
            error = new(IkeParseErrorKind.BadPayloadSyntax, offset, "SKF payload shorter than its fragment fields");
            return false;
        }

        var span = buffer.Span;
        ushort number = BinaryPrimitives.ReadUInt16BigEndian(span[(offset + 4)..]);
        ushort total = BinaryPrimitives.ReadUInt16BigEndian(span[(offset + 6)..]);
        if (number == 0 || total == 0 || number > total)
        {
            error = new(IkeParseErrorKind.BadFragmentNumber, offset + 4, $"fragment {number} of {total}");
            return false;
        }

        into.Add(new EncryptedFragmentPayload(firstInner, number, total, offset + EncryptedFragmentHeaderSize) { Critical = critical });
        error = default;
        return true;
    }

    /// <summary>Writes the 28-byte header (RFC 7296 3.1), version 2.0.</summary>
    static void WriteHeader(Span<byte> destination, IkeMessage message, PayloadType next, int length)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, message.InitiatorSpi);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], message.ResponderSpi);
        destination[16] = (byte)next;
        destination[17] = IkeHeader.Version2;
        destination[18] = (byte)message.Exchange;
        destination[19] = (byte)(message.Flags & (IkeFlags.Initiator | IkeFlags.Version | IkeFlags.Response)); // reserved bits cleared
        BinaryPrimitives.WriteUInt32BigEndian(destination[20..], message.MessageId);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], (uint)length);
    }
}
