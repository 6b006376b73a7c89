using System.Buffers.Binary;
using System.Net;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Codec;

public class ProtectedMessageTests
{
    internal static IkeMessage AuthRequest(params IkePayload[] extra) => new()
    {
        InitiatorSpi = 0xAAAAAAAAAAAAAAAA,
        ResponderSpi = 0xBBBBBBBBBBBBBBBB,
        Exchange = ExchangeType.IkeAuth,
        Flags = IkeFlags.Initiator,
        MessageId = 1,
        Payloads =
        [
            new IdentificationPayload(true, IdType.Fqdn, "handset.example"u8.ToArray()),
            new AuthenticationPayload(AuthMethod.SharedKeyMessageIntegrityCode, new byte[32]),
            new SecurityAssociationPayload([new Proposal(1, ProtocolId.Esp, new byte[] { 1, 2, 3, 4 },
                [new Transform(TransformType.Encryption, (ushort)EncryptionAlgorithm.AesGcm16, 128),
                 new Transform(TransformType.ExtendedSequenceNumbers, 0)])]),
            new TrafficSelectorPayload(true, [new TrafficSelector(0, 0, 65535, IPAddress.Parse("10.0.0.1"), IPAddress.Parse("10.0.0.1"))]),
            new TrafficSelectorPayload(false, [new TrafficSelector(0, 0, 65535, IPAddress.Parse("10.9.0.0"), IPAddress.Parse("10.9.255.255"))]),
            .. extra,
        ],
    };

    [Fact]
    public void SealsAllPayloadsInsideOneSkPayload()
    {
        var cipher = new XorTestCipher(7);
        var message = AuthRequest();
        var bytes = IkeCodec.EncodeProtected(message, cipher);
        var plaintext = IkeCodec.EncodePayloads(message.Payloads);

        Assert.Equal(1, cipher.SealCalls);
        Assert.Equal(28 + 4 + cipher.GetSealedLength(plaintext.Length), bytes.Length);
        Assert.Equal((byte)PayloadType.Encrypted, bytes[16]);
        Assert.Equal((uint)bytes.Length, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(24)));
        Assert.Equal((byte)PayloadType.IdentificationInitiator, bytes[28]);
        Assert.Equal(bytes.Length - 28, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(30)));

        Assert.True(IkeCodec.TryDecode(bytes, out var received, out var error), error.ToString());
        var sk = Assert.IsType<EncryptedPayload>(Assert.Single(received.Payloads));
        Assert.Equal(32, sk.BodyOffset);
        Assert.Equal(PayloadType.IdentificationInitiator, sk.FirstInnerPayload);

        Assert.True(IkeCodec.TryOpen(received, cipher, out var inner, out error), error.ToString());
        Assert.Equal(plaintext, IkeCodec.EncodePayloads(inner));
        Assert.Equal("handset.example"u8.ToArray(), Assert.IsType<IdentificationPayload>(inner[0]).Data.ToArray());
    }

    [Fact]
    public void EmptyInformationalIsAnEmptySk()
    {
        var cipher = new XorTestCipher(1);
        var bytes = IkeCodec.EncodeProtected(new IkeMessage
        {
            InitiatorSpi = 1, ResponderSpi = 2, Exchange = ExchangeType.Informational, Flags = IkeFlags.Response, MessageId = 9,
        }, cipher);
        Assert.Equal(0, bytes[28]);
        var inner = IkeCodec.Open(IkeCodec.Decode(bytes), cipher);
        Assert.Empty(inner);
    }

    [Fact]
    public void TamperedMessageFailsIntegrity()
    {
        var cipher = new XorTestCipher(7);
        var bytes = IkeCodec.EncodeProtected(AuthRequest(), cipher);
        for (int i = 0; i < bytes.Length; i += 7)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x01;
            if (!IkeCodec.TryDecode(copy, out var received, out _))
                continue; // header or SK header now malformed
            Assert.False(IkeCodec.TryOpen(received, cipher, out var inner, out var error));
            Assert.Null(inner);
            Assert.Equal(IkeParseErrorKind.IntegrityCheckFailed, error.Kind);
            Assert.Null(error.SuggestedNotify);
        }
    }

    [Fact]
    public void WrongKeyFailsIntegrity()
    {
        var bytes = IkeCodec.EncodeProtected(AuthRequest(), new XorTestCipher(7));
        Assert.False(IkeCodec.TryOpen(IkeCodec.Decode(bytes), new XorTestCipher(8), out _, out var error));
        Assert.Equal(IkeParseErrorKind.IntegrityCheckFailed, error.Kind);
        var exception = Assert.Throws<IkeParseException>(() => IkeCodec.Open(IkeCodec.Decode(bytes), new XorTestCipher(8)));
        Assert.Equal(IkeParseErrorKind.IntegrityCheckFailed, exception.Error.Kind);
    }

    [Fact]
    public void TooShortBodyNeverReachesTheCipher()
    {
        var cipher = new XorTestCipher(7);
        var received = IkeCodec.Decode(Hex.Parse("01 02 03 04 05 06 07 08 0000000000000001 2E 20 25 08 00000000 00000024 00 00 0008 01020304"));
        Assert.False(IkeCodec.TryOpen(received, cipher, out _, out var error));
        Assert.Equal(IkeParseErrorKind.IntegrityCheckFailed, error.Kind);
        Assert.Equal(0, cipher.OpenCalls);
    }

    [Fact]
    public void CleartextMessageIsNotProtected()
    {
        var message = IkeCodec.Decode(IkeCodec.Encode(AuthRequest()));
        Assert.False(IkeCodec.TryOpen(message, new XorTestCipher(1), out _, out var error));
        Assert.Equal(IkeParseErrorKind.NotProtected, error.Kind);
    }

    [Fact]
    public void FragmentMustGoToTheReassembler()
    {
        var cipher = new XorTestCipher(3);
        var fragments = IkeCodec.EncodeProtectedFragments(AuthRequest(), cipher, 100);
        Assert.True(fragments.Count > 1);
        Assert.False(IkeCodec.TryOpen(IkeCodec.Decode(fragments[0]), cipher, out _, out var error));
        Assert.Equal(IkeParseErrorKind.Fragmented, error.Kind);
    }

    [Fact]
    public void MalformedInnerChainIsReportedRelativeToPlaintext()
    {
        var cipher = new XorTestCipher(3);
        // inner chain: a nonce of 3 bytes, invalid
        var bad = new IkeMessage
        {
            InitiatorSpi = 1, ResponderSpi = 2, Exchange = ExchangeType.CreateChildSa, Flags = IkeFlags.Initiator, MessageId = 4,
            Payloads = [new VendorIdPayload(new byte[5]), new NoncePayload(new byte[3])],
        };
        var received = IkeCodec.Decode(IkeCodec.EncodeProtected(bad, cipher));
        Assert.False(IkeCodec.TryOpen(received, cipher, out _, out var error));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
        Assert.Equal(9 + 4, error.Offset);
        Assert.Equal(NotifyType.InvalidSyntax, error.SuggestedNotify);
    }
}
