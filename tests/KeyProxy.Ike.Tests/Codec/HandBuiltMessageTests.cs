using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Codec;

/// <summary>Byte-exact checks against messages laid out by hand from RFC 7296's figures, and a captured one.</summary>
public class HandBuiltMessageTests
{
    static readonly byte[] KeData = Enumerable.Range(0, 64).Select(i => (byte)(0x80 + i)).ToArray();
    static readonly byte[] NonceData = Enumerable.Range(0, 32).Select(i => (byte)(0x10 + i)).ToArray();
    static readonly byte[] NatSource = Enumerable.Range(0, 20).Select(i => (byte)(0xA0 + i)).ToArray();
    static readonly byte[] NatDestination = Enumerable.Range(0, 20).Select(i => (byte)(0xC0 + i)).ToArray();

    /// <summary>IKE_SA_INIT request: HDR, SAi1, KEi, Ni, N(NAT_DETECTION_SOURCE_IP), N(NAT_DETECTION_DESTINATION_IP).</summary>
    static byte[] SaInitBytes() => Hex.Parse(
        // RFC 7296 3.1 header: SPIi, SPIr, Next Payload SA (33), version 2.0, IKE_SA_INIT (34), flags I, Message ID 0, Length 240
        "0102030405060708 0000000000000000 21 20 22 08 00000000 000000F0" +
        // 3.3 SA: next KE (34), length 48
        "22 00 0030" +
        //   3.3.1 proposal: last (0), length 44, #1, IKE, SPI size 0, 4 transforms
        "00 00 002C 01 01 00 04" +
        //   3.3.2 transforms: more (3) ... last (0); ENCR AES-GCM-16 with 3.3.5 Key Length 256 (TV, AF=1)
        "03 00 000C 01 00 0014 800E 0100" +
        "03 00 0008 02 00 0005" + // PRF_HMAC_SHA2_256
        "03 00 0008 04 00 0013" + // DH group 19
        "00 00 0008 04 00 001F" + // DH group 31
        // 3.4 KE: next Ni (40), length 72, group 19, reserved
        "28 00 0048 0013 0000" + Hex.Of(KeData) +
        // 3.9 Ni: next N (41), length 36
        "29 00 0024" + Hex.Of(NonceData) +
        // 3.10 N: next N, length 28, protocol 0, SPI size 0, NAT_DETECTION_SOURCE_IP (16388)
        "29 00 001C 00 00 4004" + Hex.Of(NatSource) +
        // last N: next none, NAT_DETECTION_DESTINATION_IP (16389)
        "00 00 001C 00 00 4005" + Hex.Of(NatDestination));

    static IkeMessage SaInitMessage() => new()
    {
        InitiatorSpi = 0x0102030405060708,
        ResponderSpi = 0,
        Exchange = ExchangeType.IkeSaInit,
        Flags = IkeFlags.Initiator,
        MessageId = 0,
        Payloads =
        [
            new SecurityAssociationPayload(
            [
                new Proposal(1, ProtocolId.Ike, ReadOnlyMemory<byte>.Empty,
                [
                    new Transform(TransformType.Encryption, (ushort)EncryptionAlgorithm.AesGcm16, 256),
                    new Transform(TransformType.PseudoRandomFunction, (ushort)PrfAlgorithm.HmacSha2_256),
                    new Transform(TransformType.DiffieHellman, (ushort)DhGroup.Ecp256),
                    new Transform(TransformType.DiffieHellman, (ushort)DhGroup.Curve25519),
                ]),
            ]),
            new KeyExchangePayload(DhGroup.Ecp256, KeData),
            new NoncePayload(NonceData),
            new NotifyPayload(NotifyType.NatDetectionSourceIp, NatSource),
            new NotifyPayload(NotifyType.NatDetectionDestinationIp, NatDestination),
        ],
    };

    [Fact]
    public void EncodesSaInitRequestByteForByte()
    {
        var expected = SaInitBytes();
        Assert.Equal(240, expected.Length);
        Assert.Equal(Hex.Of(expected), Hex.Of(IkeCodec.Encode(SaInitMessage())));
    }

    [Fact]
    public void DecodesSaInitRequest()
    {
        var bytes = SaInitBytes();
        Assert.True(IkeCodec.TryDecode(bytes, out var message, out var error), error.ToString());
        Assert.Equal(0x0102030405060708UL, message.InitiatorSpi);
        Assert.Equal(0UL, message.ResponderSpi);
        Assert.Equal(ExchangeType.IkeSaInit, message.Exchange);
        Assert.True(message.IsFromInitiator);
        Assert.False(message.IsResponse);
        Assert.Equal(0u, message.MessageId);
        Assert.True(message.Raw.Span.SequenceEqual(bytes));

        Assert.Equal(
            [PayloadType.SecurityAssociation, PayloadType.KeyExchange, PayloadType.Nonce, PayloadType.Notify, PayloadType.Notify],
            message.Payloads.Select(p => p.Type));
        var proposal = Assert.Single(message.Find<SecurityAssociationPayload>()!.Proposals);
        Assert.Equal(SaInitMessage().Find<SecurityAssociationPayload>()!.Proposals[0].Transforms, proposal.Transforms);
        Assert.Equal(KeData, message.Find<KeyExchangePayload>()!.Data.ToArray());
        Assert.Equal(NonceData, message.Find<NoncePayload>()!.Nonce.ToArray());
        Assert.Equal(NatSource, message.FindNotify(NotifyType.NatDetectionSourceIp)!.Data.ToArray());
        Assert.Equal(NatDestination, message.FindNotify(NotifyType.NatDetectionDestinationIp)!.Data.ToArray());
    }

    [Fact]
    public void DecodedBytesAreSlicesOfTheDatagram()
    {
        var bytes = SaInitBytes();
        var message = IkeCodec.Decode(bytes);
        bytes[28 + 48 + 8] ^= 0xFF; // first KE data byte
        Assert.Equal((byte)(KeData[0] ^ 0xFF), message.Find<KeyExchangePayload>()!.Data.Span[0]);
    }

    /// <summary>
    /// A captured IKE_SA_INIT request (published as test data in the Android IKEv2 library's IkeMessageTest):
    /// SA (AES-CBC-128, HMAC-SHA1-96, MODP-1024, PRF-HMAC-SHA1), KE, Ni, two NAT detection notifies, a vendor ID.
    /// </summary>
    const string CapturedSaInit =
        "8f54bf6d8b48e6e10000000000000000212022080000000000000150" +
        "220000300000002c010100040300000c0100000c" +
        "800e00800300000803000002030000080400000200000008" +
        "020000022800008800020000b4a2faf4bb54878ae21d6385" +
        "12ece55d9236fc5046ab6cef82220f421f3ce6361faf3656" +
        "4ecb6d28798a94aad7b2b4b603ddeaaa5630adb9ece8ac37" +
        "534036040610ebdd92f46bef84f0be7db860351843858f8a" +
        "cf87056e272377f70c9f2d81e29c7b0ce4f291a3a72476bb" +
        "0b278fd4b7b0a4c26bbeb08214c707137607958729000024" +
        "c39b7f368f4681b89fa9b7be6465abd7c5f68b6ed5d3b4c7" +
        "2cb4240eb5c464122900001c00004004e54f73b7d83f6beb" +
        "881eab2051d8663f421d10b02b00001c00004005d915368c" +
        "a036004cb578ae3e3fb268509aeab1900000002069936922" +
        "8741c6d4ca094c93e242c9de19e7b7c60000000500000500";

    [Fact]
    public void DecodesCapturedSaInitAndReencodesIdentically()
    {
        var bytes = Hex.Parse(CapturedSaInit);
        Assert.True(IkeCodec.TryDecode(bytes, out var message, out var error), error.ToString());
        Assert.Equal(0x8f54bf6d8b48e6e1UL, message.InitiatorSpi);
        Assert.Equal(
            [PayloadType.SecurityAssociation, PayloadType.KeyExchange, PayloadType.Nonce, PayloadType.Notify, PayloadType.Notify, PayloadType.VendorId],
            message.Payloads.Select(p => p.Type));
        var proposal = Assert.Single(message.Find<SecurityAssociationPayload>()!.Proposals);
        Assert.Equal(
            [
                new Transform(TransformType.Encryption, 12, 128),
                new Transform(TransformType.Integrity, 2),
                new Transform(TransformType.DiffieHellman, 2),
                new Transform(TransformType.PseudoRandomFunction, 2),
            ],
            proposal.Transforms);
        var ke = message.Find<KeyExchangePayload>()!;
        Assert.Equal((DhGroup)2, ke.Group);
        Assert.Equal(128, ke.Data.Length);
        Assert.Equal(32, message.Find<NoncePayload>()!.Nonce.Length);
        Assert.Equal(20, message.FindNotify(NotifyType.NatDetectionSourceIp)!.Data.Length);
        Assert.Equal(28, message.Find<VendorIdPayload>()!.Data.Length);
        Assert.Equal(CapturedSaInit, Hex.Of(IkeCodec.Encode(message)).ToLowerInvariant());
    }

    [Fact]
    public void CapturedSaInitWithLongerLastPayloadIsRejected()
    {
        var bytes = Hex.Parse(CapturedSaInit);
        bytes[28 + 278 + 1]++; // the vendor ID's length (low byte)
        Assert.False(IkeCodec.TryDecode(bytes, out _, out var error));
        Assert.Equal(IkeParseErrorKind.BadPayloadLength, error.Kind);
        Assert.Equal(28 + 278, error.Offset);
    }

    [Fact]
    public void CapturedSaInitWithZeroPayloadLengthIsRejected()
    {
        var bytes = Hex.Parse(CapturedSaInit);
        bytes[30] = 0;
        bytes[31] = 0;
        Assert.False(IkeCodec.TryDecode(bytes, out _, out var error));
        Assert.Equal(IkeParseErrorKind.BadPayloadLength, error.Kind);
    }

    [Fact]
    public void UnknownFirstPayloadBecomesUnknownPayloadWithCriticalBit()
    {
        var bytes = Hex.Parse(CapturedSaInit);
        bytes[16] = 0xFF;
        bytes[29] = 0x80;
        var message = IkeCodec.Decode(bytes);
        var unknown = Assert.IsType<UnknownPayload>(message.Payloads[0]);
        Assert.Equal((PayloadType)0xFF, unknown.RawType);
        Assert.True(unknown.Critical);
        Assert.Equal(44, unknown.Body.Length);
        Assert.IsType<KeyExchangePayload>(message.Payloads[1]);
    }
}
