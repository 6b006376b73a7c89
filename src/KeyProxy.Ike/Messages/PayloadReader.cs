using System.Buffers.Binary;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Messages;

/// <summary>
/// Decodes payload bodies (everything after the 4-byte generic header, RFC 7296 3.2). Every length is
/// checked against its container before use; byte data is sliced from the input, never copied.
/// <c>at</c> is the offset of the body within the buffer being decoded, used for error offsets only.
/// </summary>
internal static class PayloadReader
{
    public static bool TryRead(PayloadType type, bool critical, ReadOnlyMemory<byte> body, int at,
        out IkePayload payload, out IkeParseError error)
    {
        error = default;
        IkePayload? result = type switch
        {
            PayloadType.SecurityAssociation => ReadSa(critical, body, at, out error),
            PayloadType.KeyExchange => ReadKe(critical, body, at, out error),
            PayloadType.IdentificationInitiator => ReadId(critical, true, body, at, out error),
            PayloadType.IdentificationResponder => ReadId(critical, false, body, at, out error),
            PayloadType.Certificate => ReadCert(critical, body, at, out error),
            PayloadType.CertificateRequest => ReadCertReq(critical, body, at, out error),
            PayloadType.Authentication => ReadAuth(critical, body, at, out error),
            PayloadType.Nonce => ReadNonce(critical, body, at, out error),
            PayloadType.Notify => ReadNotify(critical, body, at, out error),
            PayloadType.Delete => ReadDelete(critical, body, at, out error),
            PayloadType.VendorId => new VendorIdPayload(body) { Critical = critical },
            PayloadType.TrafficSelectorInitiator => ReadTs(critical, true, body, at, out error),
            PayloadType.TrafficSelectorResponder => ReadTs(critical, false, body, at, out error),
            // CP (47), EAP (48) and anything unrecognised: kept opaque with its critical bit (RFC 7296 2.5).
            _ => new UnknownPayload(type, body) { Critical = critical },
        };

        payload = result!;
        return result is not null;
    }

    static IkeParseError Fail(IkeParseErrorKind kind, int offset, string detail) => new(kind, offset, detail);

    static IkePayload? TooShort(int at, int min, string what, out IkeParseError error)
    {
        error = Fail(IkeParseErrorKind.BadPayloadSyntax, at, $"{what} body shorter than {min} bytes");
        return null;
    }

    // RFC 7296 3.3: proposals, each with its transforms (3.3.1, 3.3.2) and attributes (3.3.5).
    static IkePayload? ReadSa(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        var span = body.Span;
        var proposals = new List<Proposal>(Math.Min(4, span.Length / 8 + 1));
        int pos = 0;
        while (true)
        {
            if (proposals.Count == IkeCodec.MaxProposals)
            {
                error = Fail(IkeParseErrorKind.LimitExceeded, at + pos, "too many proposals");
                return null;
            }

            if (span.Length - pos < 8)
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos, "proposal substructure truncated");
                return null;
            }

            byte last = span[pos];
            int length = BinaryPrimitives.ReadUInt16BigEndian(span[(pos + 2)..]);
            byte number = span[pos + 4];
            var protocol = (ProtocolId)span[pos + 5];
            int spiSize = span[pos + 6];
            int transformCount = span[pos + 7];

            if (last != 0 && last != 2)
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos, "proposal 'last substructure' must be 0 or 2");
                return null;
            }

            if (length < 8 + spiSize || length > span.Length - pos)
            {
                error = Fail(IkeParseErrorKind.BadPayloadLength, at + pos + 2, "proposal length out of range");
                return null;
            }

            int end = pos + length;
            if ((last == 0) != (end == span.Length))
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos, "proposal 'last substructure' disagrees with the SA length");
                return null;
            }

            if (transformCount > IkeCodec.MaxTransformsPerProposal)
            {
                error = Fail(IkeParseErrorKind.LimitExceeded, at + pos + 7, "too many transforms");
                return null;
            }

            int tpos = pos + 8 + spiSize;
            if (transformCount * 8 > end - tpos)
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos + 7, "transform count does not fit the proposal length");
                return null;
            }

            var spi = body.Slice(pos + 8, spiSize);
            Transform[] transforms = transformCount == 0 ? [] : new Transform[transformCount];
            for (int i = 0; i < transformCount; i++)
            {
                if (!TryReadTransform(span, ref tpos, end, i == transformCount - 1, at, out transforms[i], out error))
                    return null;
            }

            if (tpos != end)
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + tpos, "proposal length disagrees with its transforms");
                return null;
            }

            proposals.Add(new Proposal(number, protocol, spi, transforms));
            pos = end;
            if (last == 0)
                break;
        }

        error = default;
        return new SecurityAssociationPayload(proposals) { Critical = critical };
    }

    static bool TryReadTransform(ReadOnlySpan<byte> span, ref int pos, int end, bool isLast, int at,
        out Transform transform, out IkeParseError error)
    {
        transform = null!;
        if (end - pos < 8)
        {
            error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos, "transform substructure truncated");
            return false;
        }

        byte last = span[pos];
        if (last != (isLast ? 0 : 3))
        {
            error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos, "transform 'last substructure' must be 3, and 0 on the last one");
            return false;
        }

        int length = BinaryPrimitives.ReadUInt16BigEndian(span[(pos + 2)..]);
        if (length < 8 || length > end - pos)
        {
            error = Fail(IkeParseErrorKind.BadPayloadLength, at + pos + 2, "transform length out of range");
            return false;
        }

        var type = (TransformType)span[pos + 4];
        ushort id = BinaryPrimitives.ReadUInt16BigEndian(span[(pos + 6)..]);
        int tend = pos + length;
        int apos = pos + 8;
        ushort? keyLength = null;
        bool unknown = false;
        int attributes = 0;

        // RFC 7296 3.3.5: AF=1 is TV (2-byte value), AF=0 is TLV. Key Length (14) is only defined as TV.
        while (apos < tend)
        {
            if (++attributes > IkeCodec.MaxAttributesPerTransform)
            {
                error = Fail(IkeParseErrorKind.LimitExceeded, at + apos, "too many transform attributes");
                return false;
            }

            if (tend - apos < 4)
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + apos, "transform attribute truncated");
                return false;
            }

            ushort word = BinaryPrimitives.ReadUInt16BigEndian(span[apos..]);
            ushort value = BinaryPrimitives.ReadUInt16BigEndian(span[(apos + 2)..]);
            bool tv = (word & 0x8000) != 0;
            int attributeType = word & 0x7FFF;
            if (tv)
            {
                if (attributeType == (int)TransformAttributeType.KeyLength && keyLength is null)
                    keyLength = value;
                else
                    unknown = true;
                apos += 4;
            }
            else
            {
                if (value > tend - apos - 4)
                {
                    error = Fail(IkeParseErrorKind.BadPayloadLength, at + apos + 2, "TLV attribute length out of range");
                    return false;
                }

                unknown = true;
                apos += 4 + value;
            }
        }

        transform = new Transform(type, id, keyLength, unknown);
        pos = tend;
        error = default;
        return true;
    }

    // RFC 7296 3.4: DH Group Num (2), RESERVED (2), Key Exchange Data.
    static IkePayload? ReadKe(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        if (body.Length < 4)
            return TooShort(at, 4, "KE", out error);
        error = default;
        return new KeyExchangePayload((DhGroup)BinaryPrimitives.ReadUInt16BigEndian(body.Span), body[4..]) { Critical = critical };
    }

    // RFC 7296 3.5: ID Type (1), RESERVED (3), Identification Data.
    static IkePayload? ReadId(bool critical, bool initiator, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        if (body.Length < 4)
            return TooShort(at, 4, "ID", out error);
        error = default;
        return new IdentificationPayload(initiator, (IdType)body.Span[0], body[4..]) { Critical = critical };
    }

    // RFC 7296 3.6: Cert Encoding (1), Certificate Data.
    static IkePayload? ReadCert(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        if (body.Length < 1)
            return TooShort(at, 1, "CERT", out error);
        error = default;
        return new CertificatePayload((CertificateEncoding)body.Span[0], body[1..]) { Critical = critical };
    }

    // RFC 7296 3.7: Cert Encoding (1), Certification Authority.
    static IkePayload? ReadCertReq(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        if (body.Length < 1)
            return TooShort(at, 1, "CERTREQ", out error);
        error = default;
        return new CertificateRequestPayload((CertificateEncoding)body.Span[0], body[1..]) { Critical = critical };
    }

    // RFC 7296 3.8: Auth Method (1), RESERVED (3), Authentication Data.
    static IkePayload? ReadAuth(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        if (body.Length < 4)
            return TooShort(at, 4, "AUTH", out error);
        error = default;
        return new AuthenticationPayload((AuthMethod)body.Span[0], body[4..]) { Critical = critical };
    }

    // RFC 7296 3.9: nonce data is 16 to 256 octets.
    static IkePayload? ReadNonce(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        if (body.Length < IkeCodec.MinNonceLength || body.Length > IkeCodec.MaxNonceLength)
        {
            error = Fail(IkeParseErrorKind.BadPayloadSyntax, at, "nonce must be 16 to 256 bytes");
            return null;
        }

        error = default;
        return new NoncePayload(body) { Critical = critical };
    }

    // RFC 7296 3.10: Protocol ID (1), SPI Size (1), Notify Message Type (2), SPI, Notification Data.
    static IkePayload? ReadNotify(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        var span = body.Span;
        if (span.Length < 4)
            return TooShort(at, 4, "Notify", out error);
        int spiSize = span[1];
        if (spiSize > span.Length - 4)
        {
            error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + 1, "notify SPI size exceeds the payload");
            return null;
        }

        error = default;
        return new NotifyPayload((NotifyType)BinaryPrimitives.ReadUInt16BigEndian(span[2..]), body[(4 + spiSize)..])
        {
            // "If the SPI field is empty, this field MUST be sent as zero and MUST be ignored on receipt."
            Protocol = spiSize == 0 ? ProtocolId.None : (ProtocolId)span[0],
            Spi = body.Slice(4, spiSize),
            Critical = critical,
        };
    }

    // RFC 7296 3.11: Protocol ID (1), SPI Size (1), Num of SPIs (2), SPIs. IKE: no SPIs, size 0; ESP/AH: size 4.
    static IkePayload? ReadDelete(bool critical, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        var span = body.Span;
        if (span.Length < 4)
            return TooShort(at, 4, "Delete", out error);
        var protocol = (ProtocolId)span[0];
        int spiSize = span[1];
        int count = BinaryPrimitives.ReadUInt16BigEndian(span[2..]);
        switch (protocol)
        {
            case ProtocolId.Ike:
                if (spiSize != 0 || count != 0 || span.Length != 4)
                {
                    error = Fail(IkeParseErrorKind.BadPayloadSyntax, at, "IKE SA delete must have SPI size 0 and no SPIs");
                    return null;
                }

                error = default;
                return new DeletePayload(protocol, Array.Empty<uint>()) { Critical = critical };

            case ProtocolId.Esp or ProtocolId.Ah:
                if (spiSize != 4)
                {
                    error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + 1, "ESP/AH delete must have SPI size 4");
                    return null;
                }

                if (count > IkeCodec.MaxDeleteSpis)
                {
                    error = Fail(IkeParseErrorKind.LimitExceeded, at + 2, "too many SPIs in delete");
                    return null;
                }

                if (span.Length != 4 + 4 * count)
                {
                    error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + 2, "delete SPI count disagrees with the payload length");
                    return null;
                }

                var spis = new uint[count];
                for (int i = 0; i < count; i++)
                    spis[i] = BinaryPrimitives.ReadUInt32BigEndian(span[(4 + 4 * i)..]);
                error = default;
                return new DeletePayload(protocol, spis) { Critical = critical };

            default:
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at, "delete for unknown protocol");
                return null;
        }
    }

    // RFC 7296 3.13: Number of TSs (1), RESERVED (3), selectors (3.13.1).
    static IkePayload? ReadTs(bool critical, bool initiator, ReadOnlyMemory<byte> body, int at, out IkeParseError error)
    {
        var span = body.Span;
        if (span.Length < 4)
            return TooShort(at, 4, "TS", out error);
        int count = span[0];
        if (count > IkeCodec.MaxTrafficSelectors)
        {
            error = Fail(IkeParseErrorKind.LimitExceeded, at, "too many traffic selectors");
            return null;
        }

        if (count * 16 > span.Length - 4)
        {
            error = Fail(IkeParseErrorKind.BadPayloadSyntax, at, "traffic selector count does not fit the payload");
            return null;
        }

        TrafficSelector[] selectors = count == 0 ? [] : new TrafficSelector[count];
        int pos = 4;
        for (int i = 0; i < count; i++)
        {
            if (span.Length - pos < 8)
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos, "traffic selector truncated");
                return null;
            }

            var tsType = (TrafficSelectorType)span[pos];
            int addressLength = tsType switch
            {
                TrafficSelectorType.Ipv4AddressRange => 4,
                TrafficSelectorType.Ipv6AddressRange => 16,
                _ => 0,
            };
            if (addressLength == 0)
            {
                error = Fail(IkeParseErrorKind.UnsupportedTrafficSelectorType, at + pos, "unsupported traffic selector type");
                return null;
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(span[(pos + 2)..]);
            if (length != 8 + 2 * addressLength)
            {
                error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos + 2, "selector length must be 16 (IPv4) or 40 (IPv6)");
                return null;
            }

            if (length > span.Length - pos)
            {
                error = Fail(IkeParseErrorKind.BadPayloadLength, at + pos + 2, "selector runs past the payload");
                return null;
            }

            selectors[i] = TrafficSelector.FromOctets(
                span[pos + 1],
                BinaryPrimitives.ReadUInt16BigEndian(span[(pos + 4)..]),
                BinaryPrimitives.ReadUInt16BigEndian(span[(pos + 6)..]),
                span.Slice(pos + 8, addressLength),
                span.Slice(pos + 8 + addressLength, addressLength));
            pos += length;
        }

        if (pos != span.Length)
        {
            error = Fail(IkeParseErrorKind.BadPayloadSyntax, at + pos, "bytes after the last traffic selector");
            return null;
        }

        error = default;
        return new TrafficSelectorPayload(initiator, selectors) { Critical = critical };
    }
}
