using System.Net;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Codec;

/// <summary>Every payload type through Encode → TryDecode, checking fields and re-encoded bytes.</summary>
public class PayloadRoundTripTests
{
    static readonly byte[] Data = [1, 2, 3, 4, 5, 6, 7, 8, 9];

    static T RoundTrip<T>(T payload) where T : IkePayload
    {
        var message = new IkeMessage
        {
            InitiatorSpi = 0x1122334455667788,
            ResponderSpi = 0x99AABBCCDDEEFF00,
            Exchange = ExchangeType.Informational,
            Flags = IkeFlags.Initiator,
            MessageId = 7,
            Payloads = [payload],
        };
        var bytes = IkeCodec.Encode(message);
        Assert.True(IkeCodec.TryDecode(bytes, out var decoded, out var error), error.ToString());
        Assert.Equal(bytes, IkeCodec.Encode(decoded));
        var single = Assert.Single(decoded.Payloads);
        Assert.Equal(payload.Type, single.Type);
        Assert.Equal(payload.Critical, single.Critical);
        return Assert.IsType<T>(single);
    }

    [Fact]
    public void SecurityAssociation()
    {
        var sa = new SecurityAssociationPayload(
        [
            new Proposal(1, ProtocolId.Ike, ReadOnlyMemory<byte>.Empty,
            [
                new Transform(TransformType.Encryption, (ushort)EncryptionAlgorithm.AesGcm16, 256),
                new Transform(TransformType.PseudoRandomFunction, (ushort)PrfAlgorithm.HmacSha2_384),
                new Transform(TransformType.DiffieHellman, (ushort)DhGroup.Curve25519),
            ]),
            new Proposal(2, ProtocolId.Esp, new byte[] { 0xC0, 0xFF, 0xEE, 0x01 },
            [
                new Transform(TransformType.Encryption, (ushort)EncryptionAlgorithm.AesCbc, 128),
                new Transform(TransformType.Integrity, (ushort)IntegrityAlgorithm.HmacSha2_256_128),
                new Transform(TransformType.ExtendedSequenceNumbers, (ushort)EsnMode.NoEsn),
            ]),
        ]);
        var back = RoundTrip(sa);
        Assert.Equal(2, back.Proposals.Count);
        Assert.Equal(1, back.Proposals[0].Number);
        Assert.Equal(ProtocolId.Ike, back.Proposals[0].Protocol);
        Assert.True(back.Proposals[0].Spi.IsEmpty);
        Assert.Equal(sa.Proposals[0].Transforms, back.Proposals[0].Transforms);
        Assert.Equal(2, back.Proposals[1].Number);
        Assert.Equal([0xC0, 0xFF, 0xEE, 0x01], back.Proposals[1].Spi.ToArray());
        Assert.Equal(sa.Proposals[1].Transforms, back.Proposals[1].Transforms);
    }

    [Fact]
    public void KeyExchange()
    {
        var back = RoundTrip(new KeyExchangePayload(DhGroup.Ecp256, Data));
        Assert.Equal(DhGroup.Ecp256, back.Group);
        Assert.Equal(Data, back.Data.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Identification(bool initiator)
    {
        var back = RoundTrip(new IdentificationPayload(initiator, IdType.Fqdn, "peer.example"u8.ToArray()));
        Assert.Equal(initiator, back.IsInitiator);
        Assert.Equal(IdType.Fqdn, back.IdType);
        Assert.Equal("peer.example"u8.ToArray(), back.Data.ToArray());
    }

    [Fact]
    public void Certificate()
    {
        var back = RoundTrip(new CertificatePayload(CertificateEncoding.X509Signature, Data) { Critical = true });
        Assert.Equal(CertificateEncoding.X509Signature, back.Encoding);
        Assert.Equal(Data, back.Data.ToArray());
    }

    [Fact]
    public void CertificateRequest()
    {
        var hashes = new byte[40];
        hashes[0] = 0xAA;
        hashes[39] = 0xBB;
        var back = RoundTrip(new CertificateRequestPayload(CertificateEncoding.X509Signature, hashes));
        Assert.Equal(hashes, back.Authorities.ToArray());
    }

    [Fact]
    public void Authentication()
    {
        var back = RoundTrip(new AuthenticationPayload(AuthMethod.DigitalSignature, Data));
        Assert.Equal(AuthMethod.DigitalSignature, back.Method);
        Assert.Equal(Data, back.Data.ToArray());
    }

    [Fact]
    public void Nonce()
    {
        var nonce = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        Assert.Equal(nonce, RoundTrip(new NoncePayload(nonce)).Nonce.ToArray());
    }

    [Fact]
    public void NotifyWithoutSpi()
    {
        var back = RoundTrip(new NotifyPayload(NotifyType.Cookie, Data));
        Assert.Equal(NotifyType.Cookie, back.NotifyType);
        Assert.Equal(ProtocolId.None, back.Protocol);
        Assert.True(back.Spi.IsEmpty);
        Assert.Equal(Data, back.Data.ToArray());
    }

    [Fact]
    public void NotifyWithSpi()
    {
        var back = RoundTrip(new NotifyPayload(NotifyType.RekeySa) { Protocol = ProtocolId.Esp, Spi = new byte[] { 1, 2, 3, 4 } });
        Assert.Equal(NotifyType.RekeySa, back.NotifyType);
        Assert.Equal(ProtocolId.Esp, back.Protocol);
        Assert.Equal([1, 2, 3, 4], back.Spi.ToArray());
        Assert.True(back.Data.IsEmpty);
    }

    [Fact]
    public void NotifyProtocolIsZeroWithoutSpi()
    {
        // RFC 7296 3.10: with an empty SPI the Protocol ID is sent as zero.
        var bytes = IkeCodec.EncodePayloadBody(new NotifyPayload(NotifyType.InitialContact) { Protocol = ProtocolId.Esp });
        Assert.Equal(Hex.Parse("00 00 4000"), bytes);
    }

    [Fact]
    public void DeleteIke()
    {
        var back = RoundTrip(new DeletePayload(ProtocolId.Ike, []));
        Assert.Equal(ProtocolId.Ike, back.Protocol);
        Assert.Empty(back.Spis);
        Assert.Equal(Hex.Parse("01 00 0000"), IkeCodec.EncodePayloadBody(back));
    }

    [Fact]
    public void DeleteEsp()
    {
        var back = RoundTrip(new DeletePayload(ProtocolId.Esp, [0xDEADBEEF, 0x01020304]));
        Assert.Equal(ProtocolId.Esp, back.Protocol);
        Assert.Equal([0xDEADBEEF, 0x01020304], back.Spis);
        Assert.Equal(Hex.Parse("03 04 0002 DEADBEEF 01020304"), IkeCodec.EncodePayloadBody(back));
    }

    [Fact]
    public void VendorId()
    {
        Assert.Equal(Data, RoundTrip(new VendorIdPayload(Data)).Data.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TrafficSelectors(bool initiator)
    {
        var ts = new TrafficSelectorPayload(initiator,
        [
            new TrafficSelector(0, 0, 65535, IPAddress.Parse("10.1.0.0"), IPAddress.Parse("10.1.255.255")),
            new TrafficSelector(17, 500, 500, IPAddress.Parse("2001:db8::1"), IPAddress.Parse("2001:db8::ffff")),
        ]);
        var back = RoundTrip(ts);
        Assert.Equal(initiator, back.IsInitiator);
        Assert.Equal(ts.Selectors, back.Selectors);
        Assert.Equal(TrafficSelectorType.Ipv4AddressRange, back.Selectors[0].SelectorType);
        Assert.Equal(TrafficSelectorType.Ipv6AddressRange, back.Selectors[1].SelectorType);
        // 4-byte TS header + 16 (IPv4 selector) + 40 (IPv6 selector), RFC 7296 3.13.1
        Assert.Equal(4 + 16 + 40, IkeCodec.EncodePayloadBody(back).Length);
    }

    [Theory]
    [InlineData(PayloadType.Configuration)]
    [InlineData(PayloadType.ExtensibleAuthentication)]
    [InlineData((PayloadType)200)]
    public void UnknownKeepsBodyAndCriticalBit(PayloadType type)
    {
        var back = RoundTrip(new UnknownPayload(type, Data) { Critical = true });
        Assert.Equal(type, back.RawType);
        Assert.True(back.Critical);
        Assert.Equal(Data, back.Body.ToArray());
    }

    [Fact]
    public void IdentificationBodyIsIdPrime()
    {
        // RFC 7296 2.15: IDi' is the ID payload without its generic header.
        var body = IkeCodec.EncodePayloadBody(new IdentificationPayload(true, IdType.Ipv4Address, new byte[] { 192, 0, 2, 1 }));
        Assert.Equal(Hex.Parse("01 000000 C0000201"), body);
    }

    [Fact]
    public void EncodingReceivedEncryptedPayloadThrows()
    {
        var message = new IkeMessage
        {
            InitiatorSpi = 1, ResponderSpi = 2, Exchange = ExchangeType.IkeAuth, Flags = IkeFlags.Initiator, MessageId = 1,
            Payloads = [new EncryptedPayload(PayloadType.IdentificationInitiator, 32)],
        };
        Assert.Throws<ArgumentException>(() => IkeCodec.Encode(message));
    }

    [Fact]
    public void EncodingInvalidPayloadsThrows()
    {
        Assert.Throws<ArgumentException>(() => IkeCodec.EncodePayloadBody(new DeletePayload(ProtocolId.Ike, [1])));
        Assert.Throws<ArgumentException>(() => IkeCodec.EncodePayloadBody(new SecurityAssociationPayload([])));
        Assert.Throws<ArgumentException>(() => IkeCodec.EncodePayloadBody(new TrafficSelectorPayload(true,
            [new TrafficSelector(0, 0, 0, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("::1"))])));
        Assert.Throws<ArgumentException>(() => IkeCodec.EncodePayloads([new VendorIdPayload(new byte[70000])]));
    }
}
