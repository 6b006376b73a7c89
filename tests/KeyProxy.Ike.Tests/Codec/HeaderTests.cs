using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Tests.Codec;

public class HeaderTests
{
    // SPIi, SPIr, next 0, version, exchange INFORMATIONAL, flags R, message id 5, length 28
    static byte[] Header(byte version = 0x20, byte flags = 0x20, uint length = 28, int extra = 0)
    {
        var bytes = Hex.Parse($"1111111111111111 2222222222222222 00 {version:X2} 25 {flags:X2} 00000005 {length:X8}");
        Array.Resize(ref bytes, bytes.Length + extra);
        return bytes;
    }

    [Fact]
    public void ReadsEmptyMessage()
    {
        Assert.True(IkeCodec.TryReadHeader(Header(), out var header, out _));
        Assert.Equal(new IkeHeader(0x1111111111111111, 0x2222222222222222, PayloadType.None, ExchangeType.Informational,
            IkeFlags.Response, 5, 28), header);
        Assert.True(IkeCodec.TryDecode(Header(), out var message, out _));
        Assert.Empty(message.Payloads);
        Assert.True(message.IsResponse);
    }

    [Fact]
    public void ShortDatagramIsTruncated()
    {
        Assert.False(IkeCodec.TryReadHeader(Header()[..27], out _, out var error));
        Assert.Equal(IkeParseErrorKind.Truncated, error.Kind);
    }

    [Fact]
    public void MajorVersionOtherThanTwoIsRejectedButHeaderIsFilled()
    {
        Assert.False(IkeCodec.TryReadHeader(Header(version: 0x10), out var header, out var error));
        Assert.Equal(IkeParseErrorKind.UnsupportedMajorVersion, error.Kind);
        Assert.Equal(NotifyType.InvalidMajorVersion, error.SuggestedNotify);
        Assert.Equal(0x1111111111111111UL, header.InitiatorSpi);
        Assert.False(IkeCodec.TryDecode(Header(version: 0x30), out var message, out error));
        Assert.Null(message);
        Assert.Equal(IkeParseErrorKind.UnsupportedMajorVersion, error.Kind);
    }

    [Fact]
    public void MinorVersionIsIgnored()
    {
        Assert.True(IkeCodec.TryReadHeader(Header(version: 0x2F), out _, out _));
    }

    [Fact]
    public void LengthBeyondDatagramIsTruncated()
    {
        Assert.False(IkeCodec.TryReadHeader(Header(length: 29), out _, out var error));
        Assert.Equal(IkeParseErrorKind.Truncated, error.Kind);
        Assert.False(IkeCodec.TryReadHeader(Header(length: uint.MaxValue), out _, out error));
        Assert.Equal(IkeParseErrorKind.Truncated, error.Kind);
    }

    [Fact]
    public void TrailingBytesAreALengthMismatch()
    {
        Assert.False(IkeCodec.TryReadHeader(Header(extra: 2), out _, out var error));
        Assert.Equal(IkeParseErrorKind.LengthMismatch, error.Kind);
        Assert.Equal(28, error.Offset);
    }

    [Fact]
    public void LengthBelowHeaderSizeIsRejected()
    {
        Assert.False(IkeCodec.TryReadHeader(Header(length: 27), out _, out var error));
        Assert.Equal(IkeParseErrorKind.LengthMismatch, error.Kind);
    }

    [Fact]
    public void ReservedFlagBitsAreIgnoredAndNotSent()
    {
        Assert.True(IkeCodec.TryReadHeader(Header(flags: 0xFF), out var header, out _));
        Assert.Equal(IkeFlags.Initiator | IkeFlags.Version | IkeFlags.Response, header.Flags);
        var encoded = IkeCodec.Encode(new IkeMessage
        {
            InitiatorSpi = 1, ResponderSpi = 2, Exchange = ExchangeType.Informational, Flags = (IkeFlags)0xFF, MessageId = 0,
        });
        Assert.Equal(0x38, encoded[19]);
    }

    [Fact]
    public void DecodeThrowingVariantCarriesTheError()
    {
        var exception = Assert.Throws<IkeParseException>(() => IkeCodec.Decode(new byte[3]));
        Assert.Equal(IkeParseErrorKind.Truncated, exception.Error.Kind);
    }

    [Fact]
    public void PrivateExchangeTypesEncode()
    {
        var bytes = IkeCodec.Encode(new IkeMessage
        {
            InitiatorSpi = 100, ResponderSpi = 100, Exchange = (ExchangeType)240, Flags = IkeFlags.Initiator, MessageId = 0,
            Payloads = [new UnknownPayload((PayloadType)200, new byte[] { 9, 9 })],
        });
        Assert.Equal(Hex.Parse("0000000000000064 0000000000000064 C8 20 F0 08 00000000 00000022 00 00 0006 0909"), bytes);
    }
}

public class NonEspMarkerTests
{
    [Fact]
    public void StripsMarker()
    {
        var udp = Hex.Parse("00000000 AABBCC");
        Assert.True(NonEspMarker.TryStrip(udp, out var ike));
        Assert.Equal(Hex.Parse("AABBCC"), ike.ToArray());
    }

    [Fact]
    public void EspIsNotIke()
    {
        Assert.False(NonEspMarker.TryStrip(Hex.Parse("00000001 AABBCC"), out var ike));
        Assert.True(ike.IsEmpty);
    }

    [Fact]
    public void ShortPayloadsAreNeither()
    {
        Assert.False(NonEspMarker.TryStrip(new byte[] { 0xFF }, out _));
        Assert.False(NonEspMarker.TryStrip(new byte[3], out _));
        Assert.True(NonEspMarker.IsNatKeepalive([0xFF]));
        Assert.False(NonEspMarker.IsNatKeepalive([0x00]));
    }

    [Fact]
    public void WritesMarker()
    {
        Assert.Equal(Hex.Parse("00000000 0102"), NonEspMarker.Prepend([1, 2]));
        var buffer = new byte[8];
        Assert.Equal(6, NonEspMarker.Write([1, 2], buffer));
        Assert.Equal(Hex.Parse("00000000 0102 0000"), buffer);
        Assert.Throws<ArgumentException>(() => NonEspMarker.Write([1, 2], new byte[5]));
    }
}
