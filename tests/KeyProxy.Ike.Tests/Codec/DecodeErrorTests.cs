using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Codec;

/// <summary>Malformed input gives a typed error, never an exception.</summary>
public class DecodeErrorTests
{
    /// <summary>An IKE header (first payload <paramref name="first"/>, correct Length) followed by <paramref name="chain"/>.</summary>
    static byte[] Message(PayloadType first, string chain)
    {
        var body = Hex.Parse(chain);
        var bytes = new byte[28 + body.Length];
        Hex.Parse($"0102030405060708 0000000000000000 {(byte)first:X2} 20 22 08 00000000 {bytes.Length:X8}").CopyTo(bytes, 0);
        body.CopyTo(bytes, 28);
        return bytes;
    }

    static IkeParseError Fails(byte[] bytes)
    {
        Assert.False(IkeCodec.TryDecode(bytes, out var message, out var error));
        Assert.Null(message);
        return error;
    }

    static IkeMessage Decodes(byte[] bytes)
    {
        Assert.True(IkeCodec.TryDecode(bytes, out var message, out var error), error.ToString());
        return message;
    }

    [Fact]
    public void PayloadHeaderTruncated()
    {
        var error = Fails(Message(PayloadType.Nonce, "00 00"));
        Assert.Equal(IkeParseErrorKind.Truncated, error.Kind);
        Assert.Equal(28, error.Offset);
    }

    [Fact]
    public void PayloadLengthBelowFour()
    {
        Assert.Equal(IkeParseErrorKind.BadPayloadLength, Fails(Message(PayloadType.VendorId, "00 00 0003 00")).Kind);
    }

    [Fact]
    public void NextPayloadPointsPastTheEnd()
    {
        // VID says another payload (VID) follows, but the message ends.
        Assert.Equal(IkeParseErrorKind.Truncated, Fails(Message(PayloadType.VendorId, "2B 00 0005 AA")).Kind);
    }

    [Fact]
    public void BytesAfterLastPayload()
    {
        var error = Fails(Message(PayloadType.VendorId, "00 00 0005 AA BB"));
        Assert.Equal(IkeParseErrorKind.LengthMismatch, error.Kind);
        Assert.Equal(33, error.Offset);
    }

    [Fact]
    public void CriticalBitIsReadAndReservedBitsIgnored()
    {
        var message = Decodes(Message(PayloadType.VendorId, "00 FF 0005 AA"));
        Assert.True(message.Payloads[0].Critical);
    }

    [Fact]
    public void TooManyPayloads()
    {
        var chain = string.Concat(Enumerable.Repeat("2B 00 0004 ", IkeCodec.MaxPayloads)) + "00 00 0004";
        Assert.Equal(IkeParseErrorKind.TooManyPayloads, Fails(Message(PayloadType.VendorId, chain)).Kind);
        var atLimit = string.Concat(Enumerable.Repeat("2B 00 0004 ", IkeCodec.MaxPayloads - 1)) + "00 00 0004";
        Assert.Equal(IkeCodec.MaxPayloads, Decodes(Message(PayloadType.VendorId, atLimit)).Payloads.Count);
    }

    [Fact]
    public void EncryptedPayloadGivesBodyOffsetAndFirstInnerType()
    {
        var message = Decodes(Message(PayloadType.Encrypted, "23 00 0008 01020304"));
        var sk = Assert.IsType<EncryptedPayload>(Assert.Single(message.Payloads));
        Assert.Equal(PayloadType.IdentificationInitiator, sk.FirstInnerPayload);
        Assert.Equal(32, sk.BodyOffset);
    }

    [Fact]
    public void CleartextPayloadBeforeEncryptedIsAllowed()
    {
        var message = Decodes(Message(PayloadType.VendorId, "2E 00 0005 AA  23 00 0008 01020304"));
        Assert.Equal(37, Assert.IsType<EncryptedPayload>(message.Payloads[1]).BodyOffset);
    }

    [Fact]
    public void PayloadAfterEncrypted()
    {
        var error = Fails(Message(PayloadType.Encrypted, "23 00 0008 01020304  00 00 0004"));
        Assert.Equal(IkeParseErrorKind.PayloadAfterEncrypted, error.Kind);
        Assert.Equal(36, error.Offset);
    }

    [Fact]
    public void EncryptedFragmentFields()
    {
        var message = Decodes(Message(PayloadType.EncryptedFragment, "23 00 000C 0002 0003 01020304"));
        var skf = Assert.IsType<EncryptedFragmentPayload>(Assert.Single(message.Payloads));
        Assert.Equal(PayloadType.IdentificationInitiator, skf.FirstInnerPayload);
        Assert.Equal(2, skf.FragmentNumber);
        Assert.Equal(3, skf.TotalFragments);
        Assert.Equal(36, skf.BodyOffset);
    }

    [Theory]
    [InlineData("0000 0003")]
    [InlineData("0004 0003")]
    [InlineData("0001 0000")]
    public void BadFragmentNumbers(string fields)
    {
        Assert.Equal(IkeParseErrorKind.BadFragmentNumber, Fails(Message(PayloadType.EncryptedFragment, $"00 00 000C {fields} 01020304")).Kind);
    }

    [Fact]
    public void EncryptedFragmentWithoutFragmentFields()
    {
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, Fails(Message(PayloadType.EncryptedFragment, "00 00 0006 0001")).Kind);
    }

    [Fact]
    public void EncryptedInsideDecryptedChainIsRejected()
    {
        var into = new List<IkePayload>();
        Assert.False(IkeCodec.TryDecodePayloads(PayloadType.Encrypted, Hex.Parse("00 00 0008 01020304"), into, out var error));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
    }

    [Fact]
    public void DecodesInnerChain()
    {
        var into = new List<IkePayload>();
        Assert.True(IkeCodec.TryDecodePayloads(PayloadType.VendorId, Hex.Parse("29 00 0005 AA  00 00 0008 00 00 4000"), into, out _));
        Assert.IsType<VendorIdPayload>(into[0]);
        Assert.Equal(NotifyType.InitialContact, Assert.IsType<NotifyPayload>(into[1]).NotifyType);
    }

    [Theory]
    [InlineData(15)]
    [InlineData(257)]
    public void NonceOutOfRange(int length)
    {
        var chain = $"00 00 {4 + length:X4}" + new string('A', 2 * length);
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, Fails(Message(PayloadType.Nonce, chain)).Kind);
    }

    [Theory]
    [InlineData("KE", PayloadType.KeyExchange, "00 00 0007 000E00")]
    [InlineData("ID", PayloadType.IdentificationInitiator, "00 00 0006 0100")]
    [InlineData("AUTH", PayloadType.Authentication, "00 00 0005 02")]
    [InlineData("CERT", PayloadType.Certificate, "00 00 0004")]
    [InlineData("CERTREQ", PayloadType.CertificateRequest, "00 00 0004")]
    [InlineData("N", PayloadType.Notify, "00 00 0007 000040")]
    [InlineData("N SPI", PayloadType.Notify, "00 00 000A 03 04 4009 0102")]
    [InlineData("D", PayloadType.Delete, "00 00 0006 0300")]
    [InlineData("D IKE SPI", PayloadType.Delete, "00 00 000C 01 04 0001 01020304")]
    [InlineData("D ESP size", PayloadType.Delete, "00 00 0008 03 00 0000 ")]
    [InlineData("D ESP count", PayloadType.Delete, "00 00 000C 03 04 0002 01020304")]
    [InlineData("D proto", PayloadType.Delete, "00 00 0008 07 04 0000")]
    [InlineData("TS", PayloadType.TrafficSelectorInitiator, "00 00 0006 0100")]
    [InlineData("TS count", PayloadType.TrafficSelectorInitiator, "00 00 0018 02000000 07 00 0010 0000FFFF 0A000000 0AFFFFFF")]
    [InlineData("TS length", PayloadType.TrafficSelectorInitiator, "00 00 0018 01000000 07 00 0011 0000FFFF 0A000000 0AFFFFFF")]
    [InlineData("TS extra", PayloadType.TrafficSelectorInitiator, "00 00 0019 01000000 07 00 0010 0000FFFF 0A000000 0AFFFFFF 00")]
    public void ShortOrInconsistentBodies(string name, PayloadType type, string chain)
    {
        var error = Fails(Message(type, chain));
        Assert.True(error.Kind == IkeParseErrorKind.BadPayloadSyntax, $"{name}: {error}");
    }

    [Fact]
    public void UnsupportedTrafficSelectorType()
    {
        var error = Fails(Message(PayloadType.TrafficSelectorResponder, "00 00 0018 01000000 0A 00 0010 0000FFFF 0A000000 0AFFFFFF"));
        Assert.Equal(IkeParseErrorKind.UnsupportedTrafficSelectorType, error.Kind);
        Assert.Equal(NotifyType.TsUnacceptable, error.SuggestedNotify);
    }

    const string Transform = "00 00 0008 01 00 000C";

    [Fact]
    public void ProposalLastSubstructureMustMatch()
    {
        // a single proposal that claims more follow
        var error = Fails(Message(PayloadType.SecurityAssociation, "00 00 0014 02 00 0010 01 01 00 01 " + Transform));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
        // a proposal marked last with another after it
        error = Fails(Message(PayloadType.SecurityAssociation,
            "00 00 0024 00 00 0010 01 01 00 01 " + Transform + " 00 00 0010 02 01 00 01 " + Transform));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
        // a value other than 0 or 2
        error = Fails(Message(PayloadType.SecurityAssociation, "00 00 0014 03 00 0010 01 01 00 01 " + Transform));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
    }

    [Fact]
    public void TwoProposalsDecode()
    {
        var message = Decodes(Message(PayloadType.SecurityAssociation,
            "00 00 0024 02 00 0010 01 01 00 01 " + Transform + " 00 00 0010 02 01 00 01 " + Transform));
        var sa = Assert.IsType<SecurityAssociationPayload>(message.Payloads[0]);
        Assert.Equal([1, 2], sa.Proposals.Select(p => (int)p.Number));
    }

    [Fact]
    public void TransformLastSubstructureMustMatchCount()
    {
        var error = Fails(Message(PayloadType.SecurityAssociation, "00 00 0014 00 00 0010 01 01 00 01 03 00 0008 01 00 000C"));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
    }

    [Fact]
    public void TransformCountBeyondProposal()
    {
        var error = Fails(Message(PayloadType.SecurityAssociation, "00 00 0014 00 00 0010 01 01 00 02 " + Transform));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
    }

    [Fact]
    public void ProposalSpiBeyondProposalLength()
    {
        var error = Fails(Message(PayloadType.SecurityAssociation, "00 00 000C 00 00 0008 01 03 04 00"));
        Assert.Equal(IkeParseErrorKind.BadPayloadLength, error.Kind);
    }

    [Fact]
    public void UnknownAttributesAreFlagged()
    {
        // Key Length TV, then an unknown TLV attribute (type 1, 2 bytes)
        var message = Decodes(Message(PayloadType.SecurityAssociation,
            "00 00 001E 00 00 001A 01 01 00 01 00 00 0012 01 00 0014 800E 0100 0001 0002 ABCD"));
        var transform = Assert.IsType<SecurityAssociationPayload>(message.Payloads[0]).Proposals[0].Transforms[0];
        Assert.Equal((ushort)256, transform.KeyLength);
        Assert.True(transform.HasUnknownAttributes);
    }

    [Fact]
    public void AttributeRunningPastTransform()
    {
        var error = Fails(Message(PayloadType.SecurityAssociation,
            "00 00 001A 00 00 0016 01 01 00 01 00 00 000E 01 00 0014 0001 0004 ABCD"));
        Assert.Equal(IkeParseErrorKind.BadPayloadLength, error.Kind);
    }

    [Fact]
    public void HalfAnAttribute()
    {
        var error = Fails(Message(PayloadType.SecurityAssociation, "00 00 0016 00 00 0012 01 01 00 01 00 00 000A 01 00 0014 800E"));
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, error.Kind);
    }

    [Fact]
    public void EmptySaIsRejected()
    {
        Assert.Equal(IkeParseErrorKind.BadPayloadSyntax, Fails(Message(PayloadType.SecurityAssociation, "00 00 0004")).Kind);
    }

    [Fact]
    public void TooManyTrafficSelectors()
    {
        var selector = "07 00 0010 0000FFFF 0A000000 0AFFFFFF ";
        int count = IkeCodec.MaxTrafficSelectors + 1;
        var chain = $"00 00 {4 + 4 + 16 * count:X4} {count:X2}000000 " + string.Concat(Enumerable.Repeat(selector, count));
        Assert.Equal(IkeParseErrorKind.LimitExceeded, Fails(Message(PayloadType.TrafficSelectorInitiator, chain)).Kind);
    }
}
