using System.Net;
using CsCheck;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Wire.Tests;

/// <summary>Proxy request codec and the edge's classification.</summary>
public class ProxyRequestTests
{
    [Fact]
    public void RoundTripsGeneratedRequests()
    {
        WireGen.ProxyRequest.Sample(request =>
        {
            var bytes = request.ToArray();
            Assert.Equal(request.GetEncodedLength(), bytes.Length);
            Assert.Equal(KeyProxyMessageKind.ProxyRequest, KeyProxyHeader.Classify(bytes));
            Assert.Equal(WireError.None, ProxyRequest.TryParse(bytes, out var parsed));
            Assert.NotNull(parsed);
            Assert.Equal(request.RequestId, parsed.RequestId);
            Assert.Equal(request.Flags, parsed.Flags);
            Assert.Equal(request.HandsetNonce, parsed.HandsetNonce);
            Assert.Equal(request.InitiatorSelectors, parsed.InitiatorSelectors);
            Assert.Equal(request.ResponderSelectors, parsed.ResponderSelectors);
            Assert.Equal(request.Suites, parsed.Suites);
            Assert.Equal(bytes, parsed.ToArray());
        }, iter: 1000);
    }

    static readonly TrafficSelector V6Selector = new(6, 0, 65535, IPAddress.Parse("2001:db8::"), IPAddress.Parse("2001:db8::ffff"));

    static ProxyRequest Maximal() => new(uint.MaxValue, ProxyRequestFlags.TransportMode, new Nonce16(UInt128.MaxValue),
        Enumerable.Repeat(V6Selector, ProxyRequest.MaxTrafficSelectors).ToArray(),
        Enumerable.Repeat(V6Selector, ProxyRequest.MaxTrafficSelectors).ToArray(),
        Enumerable.Repeat(new EspSuitePreference(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.Esn), ProxyRequest.MaxSuites).ToArray());

    [Fact]
    public void MaximalAndEmptyRequests()
    {
        var max = Maximal();
        var bytes = max.ToArray();
        Assert.Equal(32 + 20 + 2 * (4 + 8 * 40) + 4 + 16 * 8, bytes.Length);
        Assert.Equal(WireError.None, ProxyRequest.TryParse(bytes, out _));

        var empty = new ProxyRequest(0, ProxyRequestFlags.None, default, [], [], []);
        Assert.Equal(32 + 20 + 4 + 4 + 4, empty.ToArray().Length);
        Assert.Equal(WireError.None, ProxyRequest.TryParse(empty.ToArray(), out var parsed));
        Assert.Empty(parsed!.Suites);
    }

    [Fact]
    public void WriterRefusesWhatCannotBeEncoded()
    {
        var max = Maximal();
        Assert.Equal(WireError.LimitExceeded, (max with { Suites = [.. max.Suites, max.Suites[0]] }).TryWrite(new byte[2000], out _));
        Assert.Equal(WireError.LimitExceeded, (max with { InitiatorSelectors = [.. max.InitiatorSelectors, V6Selector] }).TryWrite(new byte[2000], out _));
        var mixed = new TrafficSelector(0, 0, 65535, IPAddress.Parse("192.0.2.1"), IPAddress.Parse("::1"));
        Assert.Equal(WireError.BadTrafficSelector, (max with { ResponderSelectors = [mixed] }).TryWrite(new byte[2000], out _));
        Assert.Equal(WireError.UnknownFlags, (max with { Flags = (ProxyRequestFlags)0x80 }).TryWrite(new byte[2000], out _));
        Assert.Equal(WireError.DestinationTooSmall, max.TryWrite(new byte[100], out _));
        Assert.Throws<InvalidOperationException>(() => (max with { Flags = (ProxyRequestFlags)2 }).ToArray());
    }

    [Fact]
    public void EveryTruncationIsATypedError()
    {
        WireGen.ProxyRequest.Sample(request =>
        {
            var bytes = request.ToArray();
            for (int n = 0; n < bytes.Length; n++)
            {
                var cut = bytes[..n];
                Assert.NotEqual(WireError.None, ProxyRequest.TryParse(cut, out var parsed));
                Assert.Null(parsed);
                // the same prefix with lengths rewritten reaches the body checks
                Mutator.FixKeyProxyLengths(cut);
                var error = ProxyRequest.TryParse(cut, out parsed);
                Assert.NotEqual(WireError.None, error);
                Assert.True(Enum.IsDefined(error));
            }
        }, iter: 60);
    }

    [Fact]
    public void MutatedRequestsParseOrFailWithATypedError()
    {
        Gen.Select(WireGen.ProxyRequest, Mutator.Some).Sample((request, mutations) =>
        {
            var bytes = Mutator.Apply(request.ToArray(), mutations, Mutator.FixKeyProxyLengths);
            var error = ProxyRequest.TryParse(bytes, out var parsed);
            Assert.True(Enum.IsDefined(error));
            if (error == WireError.None)
                Assert.Equal(bytes, parsed!.ToArray());
            else
                Assert.Null(parsed);
            _ = KeyProxyHeader.Classify(bytes);
        }, iter: 5000);
    }

    [Fact]
    public void StrictFieldChecks()
    {
        var bytes = Maximal().ToArray();
        void Expect(WireError expected, int offset, byte value)
        {
            var b = (byte[])bytes.Clone();
            b[offset] = value;
            Assert.Equal(expected, ProxyRequest.TryParse(b, out _));
        }

        Expect(WireError.BadHeader, 7, 99);          // initiator SPI
        Expect(WireError.BadHeader, 15, 101);        // responder SPI
        Expect(WireError.BadPayload, 16, 129);       // next payload
        Expect(WireError.BadHeader, 17, 0x21);       // version
        Expect(WireError.BadHeader, 18, 241);        // exchange
        Expect(WireError.BadHeader, 19, 0x28);       // flags I+R
        Expect(WireError.BadPayload, 28, 41);        // payload's next payload
        Expect(WireError.BadPayload, 29, 0x00);      // critical bit
        Expect(WireError.LengthMismatch, 31, 0);     // payload length
        Expect(WireError.BadVersion, 32, 2);         // body version
        Expect(WireError.UnknownFlags, 33, 0x03);
        Expect(WireError.BadValue, 34, 2);           // protocol AH
        Expect(WireError.ReservedNotZero, 35, 1);
        Expect(WireError.LimitExceeded, 52, 9);      // TSi count
        Expect(WireError.ReservedNotZero, 53, 1);
        Expect(WireError.BadTrafficSelector, 56, 9); // TS type
        Expect(WireError.BadTrafficSelector, 56, 7); // IPv4 type with IPv6 length
        Expect(WireError.ReservedNotZero, 52, 7);    // one TSi fewer: the 8th selector is read as the TSr block header
        Assert.Equal(WireError.LengthMismatch, ProxyRequest.TryParse([.. bytes, 0], out _));
    }

    [Fact]
    public void ClassifiesEachKind()
    {
        var request = Maximal().ToArray();
        Assert.Equal(KeyProxyMessageKind.ProxyRequest, KeyProxyHeader.Classify(request));

        using var sealer = new Proxy.KeyTransferSealer(new byte[32]);
        var transfer = sealer.Seal(1, new SaDelete(SaDeleteReason.Expired, [0x1000]));
        Assert.Equal(KeyProxyMessageKind.KeyTransfer, KeyProxyHeader.Classify(transfer));

        var saInit = IkeCodec.Encode(new IkeMessage
        {
            InitiatorSpi = 0x0102030405060708,
            ResponderSpi = 0,
            Exchange = ExchangeType.IkeSaInit,
            Flags = IkeFlags.Initiator,
            MessageId = 0,
            Payloads =
            [
                new SecurityAssociationPayload([new Proposal(1, ProtocolId.Ike, ReadOnlyMemory<byte>.Empty,
                    [new Transform(TransformType.Encryption, (ushort)EncryptionAlgorithm.AesGcm16, 256),
                     new Transform(TransformType.PseudoRandomFunction, (ushort)PrfAlgorithm.HmacSha2_256),
                     new Transform(TransformType.DiffieHellman, (ushort)DhGroup.Curve25519)])]),
                new KeyExchangePayload(DhGroup.Curve25519, new byte[32]),
                new NoncePayload(new byte[32]),
            ],
        });
        Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify(saInit));

        // real IKE with the reserved SPIs but a real exchange type is still IKE
        var disguised = (byte[])request.Clone();
        disguised[18] = (byte)ExchangeType.IkeSaInit;
        Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify(disguised));

        Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify([]));
        Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify(request.AsSpan(0, 27)));
        Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify(request.AsSpan(0, request.Length - 1)));
        Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify([0, 0, 0, 0, .. request])); // non-ESP marker
        var badVersion = (byte[])request.Clone();
        badVersion[17] = 0x10;
        Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify(badVersion));
        Gen.Byte.Array[0, 200].Sample(garbage => Assert.Equal(KeyProxyMessageKind.None, KeyProxyHeader.Classify(garbage)));
    }
}
