using System.Buffers.Binary;
using System.Net.Sockets;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Messages;

/// <summary>
/// Encodes payloads: first <see cref="GetChainLength"/> (which also validates), then <see cref="WriteChain"/>
/// into a buffer of exactly that size. Invalid payloads built by the caller throw <see cref="ArgumentException"/>.
/// </summary>
internal static class PayloadWriter
{
    public const int GenericHeaderSize = 4;

    /// <summary>Total bytes of the chain, generic headers included.</summary>
    public static int GetChainLength(IReadOnlyList<IkePayload> payloads)
    {
        long total = 0;
        for (int i = 0; i < payloads.Count; i++)
        {
            int length = GenericHeaderSize + GetBodyLength(payloads[i]);
            if (length > ushort.MaxValue)
                throw new ArgumentException($"{payloads[i].Type} payload is {length} bytes, over the 65535 limit of its length field");
            total += length;
        }

        if (total > int.MaxValue / 2)
            throw new ArgumentException("payload chain too large");
        return (int)total;
    }

    /// <summary>Writes the chain; the last payload's Next Payload is 0 (RFC 7296 3.2).</summary>
    public static void WriteChain(IReadOnlyList<IkePayload> payloads, Span<byte> destination)
    {
        int pos = 0;
        for (int i = 0; i < payloads.Count; i++)
        {
            var payload = payloads[i];
            int bodyLength = GetBodyLength(payload);
            var next = i + 1 < payloads.Count ? payloads[i + 1].Type : PayloadType.None;
            WriteGenericHeader(destination[pos..], next, payload.Critical, GenericHeaderSize + bodyLength);
            WriteBody(payload, destination.Slice(pos + GenericHeaderSize, bodyLength));
            pos += GenericHeaderSize + bodyLength;
        }
    }

    /// <summary>RFC 7296 3.2: Next Payload (1), C bit + RESERVED (1), Payload Length (2).</summary>
    public static void WriteGenericHeader(Span<byte> destination, PayloadType next, bool critical, int length)
    {
        destination[0] = (byte)next;
        destination[1] = critical ? (byte)0x80 : (byte)0;
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], checked((ushort)length));
    }

    public static int GetBodyLength(IkePayload payload) => payload switch
    {
        SecurityAssociationPayload sa => GetSaLength(sa),
        KeyExchangePayload ke => 4 + ke.Data.Length,
        IdentificationPayload id => 4 + id.Data.Length,
        CertificatePayload cert => 1 + cert.Data.Length,
        CertificateRequestPayload req => 1 + req.Authorities.Length,
        AuthenticationPayload auth => 4 + auth.Data.Length,
        NoncePayload nonce => nonce.Nonce.Length,
        NotifyPayload notify => GetNotifyLength(notify),
        DeletePayload delete => GetDeleteLength(delete),
        VendorIdPayload vid => vid.Data.Length,
        TrafficSelectorPayload ts => GetTsLength(ts),
        UnknownPayload unknown => GetUnknownLength(unknown),
        EncryptedPayload or EncryptedFragmentPayload =>
            throw new ArgumentException("SK/SKF payloads are produced by EncodeProtected, not written from a received message"),
        _ => throw new ArgumentException($"cannot encode payload {payload.GetType().Name}"),
    };

    public static void WriteBody(IkePayload payload, Span<byte> d)
    {
        switch (payload)
        {
            case SecurityAssociationPayload sa:
                WriteSa(sa, d);
                break;
            case KeyExchangePayload ke:
                BinaryPrimitives.WriteUInt16BigEndian(d, (ushort)ke.Group);
                d.Slice(2, 2).Clear();
                ke.Data.Span.CopyTo(d[4..]);
                break;
            case IdentificationPayload id:
                d[0] = (byte)id.IdType;
                d.Slice(1, 3).Clear();
                id.Data.Span.CopyTo(d[4..]);
                break;
            case CertificatePayload cert:
                d[0] = (byte)cert.Encoding;
                cert.Data.Span.CopyTo(d[1..]);
                break;
            case CertificateRequestPayload req:
                d[0] = (byte)req.Encoding;
                req.Authorities.Span.CopyTo(d[1..]);
                break;
            case AuthenticationPayload auth:
                d[0] = (byte)auth.Method;
                d.Slice(1, 3).Clear();
                auth.Data.Span.CopyTo(d[4..]);
                break;
            case NoncePayload nonce:
                nonce.Nonce.Span.CopyTo(d);
                break;
            case NotifyPayload notify:
                // RFC 7296 3.10: Protocol ID is zero when there is no SPI.
                d[0] = notify.Spi.IsEmpty ? (byte)0 : (byte)notify.Protocol;
                d[1] = (byte)notify.Spi.Length;
                BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)notify.NotifyType);
                notify.Spi.Span.CopyTo(d[4..]);
                notify.Data.Span.CopyTo(d[(4 + notify.Spi.Length)..]);
                break;
            case DeletePayload delete:
                d[0] = (byte)delete.Protocol;
                d[1] = delete.Protocol == ProtocolId.Ike ? (byte)0 : (byte)4;
                BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)delete.Spis.Count);
                for (int i = 0; i < delete.Spis.Count; i++)
                    BinaryPrimitives.WriteUInt32BigEndian(d[(4 + 4 * i)..], delete.Spis[i]);
                break;
            case VendorIdPayload vid:
                vid.Data.Span.CopyTo(d);
                break;
            case TrafficSelectorPayload ts:
                WriteTs(ts, d);
                break;
            case UnknownPayload unknown:
                unknown.Body.Span.CopyTo(d);
                break;
        }
    }

    // RFC 7296 3.3.1: 8-byte proposal header + SPI + transforms; 3.3.2: 8-byte transform header + attributes.
    static int GetSaLength(SecurityAssociationPayload sa)
    {
        if (sa.Proposals.Count == 0)
            throw new ArgumentException("an SA payload needs at least one proposal");
        if (sa.Proposals.Count > IkeCodec.MaxProposals)
            throw new ArgumentException($"more than {IkeCodec.MaxProposals} proposals");
        int total = 0;
        for (int i = 0; i < sa.Proposals.Count; i++) // indexed: no boxed enumerator
            total += GetProposalLength(sa.Proposals[i]);
        return total;
    }

    static int GetProposalLength(Proposal proposal)
    {
        if (proposal.Spi.Length > byte.MaxValue)
            throw new ArgumentException("proposal SPI longer than 255 bytes");
        if (proposal.Transforms.Count > IkeCodec.MaxTransformsPerProposal)
            throw new ArgumentException($"more than {IkeCodec.MaxTransformsPerProposal} transforms in a proposal");
        int length = 8 + proposal.Spi.Length;
        for (int i = 0; i < proposal.Transforms.Count; i++)
            length += GetTransformLength(proposal.Transforms[i]);
        if (length > ushort.MaxValue)
            throw new ArgumentException("proposal too long");
        return length;
    }

    static int GetTransformLength(Transform transform) => transform.KeyLength is null ? 8 : 12;

    static void WriteSa(SecurityAssociationPayload sa, Span<byte> d)
    {
        int pos = 0;
        for (int p = 0; p < sa.Proposals.Count; p++)
        {
            var proposal = sa.Proposals[p];
            int length = GetProposalLength(proposal);
            var s = d.Slice(pos, length);
            s[0] = p == sa.Proposals.Count - 1 ? (byte)0 : (byte)2; // last substructure: 0 last, 2 more
            s[1] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(s[2..], (ushort)length);
            s[4] = proposal.Number;
            s[5] = (byte)proposal.Protocol;
            s[6] = (byte)proposal.Spi.Length;
            s[7] = (byte)proposal.Transforms.Count;
            proposal.Spi.Span.CopyTo(s[8..]);
            int tpos = 8 + proposal.Spi.Length;
            for (int t = 0; t < proposal.Transforms.Count; t++)
            {
                var transform = proposal.Transforms[t];
                int tlength = GetTransformLength(transform);
                var ts = s.Slice(tpos, tlength);
                ts[0] = t == proposal.Transforms.Count - 1 ? (byte)0 : (byte)3; // 0 last, 3 more
                ts[1] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(ts[2..], (ushort)tlength);
                ts[4] = (byte)transform.Type;
                ts[5] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(ts[6..], transform.Id);
                if (transform.KeyLength is { } keyLength)
                {
                    // RFC 7296 3.3.5: Key Length in TV format, AF bit set.
                    BinaryPrimitives.WriteUInt16BigEndian(ts[8..], (ushort)(0x8000 | (int)TransformAttributeType.KeyLength));
                    BinaryPrimitives.WriteUInt16BigEndian(ts[10..], keyLength);
                }

                tpos += tlength;
            }

            pos += length;
        }
    }

    static int GetNotifyLength(NotifyPayload notify)
    {
        if (notify.Spi.Length > byte.MaxValue)
            throw new ArgumentException("notify SPI longer than 255 bytes");
        return 4 + notify.Spi.Length + notify.Data.Length;
    }

    static int GetDeleteLength(DeletePayload delete) => delete.Protocol switch
    {
        ProtocolId.Ike when delete.Spis.Count == 0 => 4,
        ProtocolId.Ike => throw new ArgumentException("an IKE SA delete carries no SPIs (RFC 7296 3.11)"),
        ProtocolId.Esp or ProtocolId.Ah when delete.Spis.Count <= IkeCodec.MaxDeleteSpis => 4 + 4 * delete.Spis.Count,
        ProtocolId.Esp or ProtocolId.Ah => throw new ArgumentException($"more than {IkeCodec.MaxDeleteSpis} SPIs in a delete"),
        _ => throw new ArgumentException($"cannot delete protocol {delete.Protocol}"),
    };

    static int GetTsLength(TrafficSelectorPayload ts)
    {
        if (ts.Selectors.Count > IkeCodec.MaxTrafficSelectors)
            throw new ArgumentException($"more than {IkeCodec.MaxTrafficSelectors} traffic selectors");
        int length = 4;
        for (int i = 0; i < ts.Selectors.Count; i++)
            length += GetSelectorLength(ts.Selectors[i]);
        return length;
    }

    // RFC 7296 3.13.1: 8 bytes + two addresses: 16 for IPv4, 40 for IPv6.
    static int GetSelectorLength(TrafficSelector selector)
    {
        var family = selector.StartAddress.AddressFamily;
        if (family != selector.EndAddress.AddressFamily)
            throw new ArgumentException("traffic selector start and end addresses differ in family");
        return family switch
        {
            AddressFamily.InterNetwork => 16,
            AddressFamily.InterNetworkV6 => 40,
            _ => throw new ArgumentException($"traffic selector address family {family} unsupported"),
        };
    }

    static void WriteTs(TrafficSelectorPayload ts, Span<byte> d)
    {
        d[0] = (byte)ts.Selectors.Count;
        d.Slice(1, 3).Clear();
        int pos = 4;
        for (int i = 0; i < ts.Selectors.Count; i++)
        {
            var selector = ts.Selectors[i];
            int length = GetSelectorLength(selector);
            int addressLength = (length - 8) / 2;
            var s = d.Slice(pos, length);
            s[0] = (byte)selector.SelectorType;
            s[1] = selector.IpProtocol;
            BinaryPrimitives.WriteUInt16BigEndian(s[2..], (ushort)length);
            BinaryPrimitives.WriteUInt16BigEndian(s[4..], selector.StartPort);
            BinaryPrimitives.WriteUInt16BigEndian(s[6..], selector.EndPort);
            if (!selector.StartAddress.TryWriteBytes(s.Slice(8, addressLength), out _)
                || !selector.EndAddress.TryWriteBytes(s.Slice(8 + addressLength, addressLength), out _))
                throw new ArgumentException("traffic selector address could not be written");
            pos += length;
        }
    }

    static int GetUnknownLength(UnknownPayload unknown) => unknown.RawType switch
    {
        PayloadType.None or PayloadType.Encrypted or PayloadType.EncryptedFragment =>
            throw new ArgumentException($"UnknownPayload cannot have type {unknown.RawType}"),
        _ => unknown.Body.Length,
    };
}
