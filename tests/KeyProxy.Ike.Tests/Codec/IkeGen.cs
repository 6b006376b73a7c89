using System.Net;
using CsCheck;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Codec;

/// <summary>CsCheck generators of valid (encodable, decodable) IKE payloads and messages.</summary>
internal static class IkeGen
{
    static Gen<ReadOnlyMemory<byte>> Bytes(int min, int max) =>
        Gen.Byte.Array[min, max].Select(a => new ReadOnlyMemory<byte>(a));

    public static readonly Gen<Transform> Transform = Gen.Select(
        Gen.Byte[1, 5], Gen.UShort, Gen.Bool, Gen.UShort,
        (type, id, hasKeyLength, keyLength) => new Transform((TransformType)type, id, hasKeyLength ? keyLength : null));

    static readonly Gen<ReadOnlyMemory<byte>> ProposalSpi =
        Gen.OneOfConst(0, 4, 8).SelectMany(n => Gen.Byte.Array[n]).Select(a => new ReadOnlyMemory<byte>(a));

    public static readonly Gen<Proposal> Proposal = Gen.Select(
        Gen.Byte, Gen.Byte[0, 3], ProposalSpi, Transform.Array[0, 12],
        (number, protocol, spi, transforms) => new Proposal(number, (ProtocolId)protocol, spi, transforms));

    public static readonly Gen<IkePayload> Sa =
        Proposal.Array[1, 4].Select(p => (IkePayload)new SecurityAssociationPayload(p));

    public static readonly Gen<IkePayload> Ke = Gen.Select(Gen.UShort, Bytes(0, 300),
        (group, data) => (IkePayload)new KeyExchangePayload((DhGroup)group, data));

    public static readonly Gen<IkePayload> Id = Gen.Select(Gen.Bool, Gen.Byte, Bytes(0, 64),
        (initiator, type, data) => (IkePayload)new IdentificationPayload(initiator, (IdType)type, data));

    public static readonly Gen<IkePayload> Cert = Gen.Select(Gen.Byte, Bytes(0, 600),
        (encoding, data) => (IkePayload)new CertificatePayload((CertificateEncoding)encoding, data));

    public static readonly Gen<IkePayload> CertReq = Gen.Select(Gen.Byte, Bytes(0, 60),
        (encoding, data) => (IkePayload)new CertificateRequestPayload((CertificateEncoding)encoding, data));

    public static readonly Gen<IkePayload> Auth = Gen.Select(Gen.Byte, Bytes(0, 300),
        (method, data) => (IkePayload)new AuthenticationPayload((AuthMethod)method, data));

    public static readonly Gen<IkePayload> Nonce = Bytes(16, 256).Select(n => (IkePayload)new NoncePayload(n));

    /// <summary>Protocol is only meaningful with an SPI (RFC 7296 3.10), so it is None without one.</summary>
    public static readonly Gen<IkePayload> Notify = Gen.Select(
        Gen.UShort, Gen.OneOfConst(0, 4, 8).SelectMany(n => Gen.Byte.Array[n]), Gen.Byte[1, 3], Bytes(0, 64),
        (type, spi, protocol, data) => (IkePayload)new NotifyPayload((NotifyType)type, data)
        {
            Spi = spi,
            Protocol = spi.Length == 0 ? ProtocolId.None : (ProtocolId)protocol,
        });

    public static readonly Gen<IkePayload> Delete = Gen.OneOf(
        Gen.Const((IkePayload)new DeletePayload(ProtocolId.Ike, Array.Empty<uint>())),
        Gen.Select(Gen.Bool, Gen.UInt.Array[0, 20],
            (esp, spis) => (IkePayload)new DeletePayload(esp ? ProtocolId.Esp : ProtocolId.Ah, spis)));

    public static readonly Gen<IkePayload> VendorId = Bytes(0, 40).Select(d => (IkePayload)new VendorIdPayload(d));

    public static readonly Gen<TrafficSelector> Selector = Gen.Bool.SelectMany(v6 =>
        Gen.Select(Gen.Byte, Gen.UShort, Gen.UShort, Gen.Byte.Array[v6 ? 16 : 4], Gen.Byte.Array[v6 ? 16 : 4],
            (protocol, start, end, a, b) => new TrafficSelector(protocol, start, end, new IPAddress(a), new IPAddress(b))));

    public static readonly Gen<IkePayload> Ts = Gen.Select(Gen.Bool, Selector.Array[0, 6],
        (initiator, selectors) => (IkePayload)new TrafficSelectorPayload(initiator, selectors));

    /// <summary>Types the codec keeps opaque: CP, EAP and unassigned or private-use numbers (not SK/SKF).</summary>
    public static readonly Gen<PayloadType> UnknownType = Gen.Byte[1, 255]
        .Where(b => b is < 33 or 47 or 48 or (> 48 and not 53))
        .Select(b => (PayloadType)b);

    public static readonly Gen<IkePayload> Unknown = Gen.Select(UnknownType, Bytes(0, 80),
        (type, body) => (IkePayload)new UnknownPayload(type, body));

    public static readonly Gen<IkePayload> Payload = Gen.Select(
        Gen.OneOf(Sa, Ke, Id, Cert, CertReq, Auth, Nonce, Notify, Delete, VendorId, Ts, Unknown), Gen.Bool,
        (payload, critical) => critical ? payload with { Critical = true } : payload);

    public static readonly Gen<IkeFlags> Flags = Gen.Byte[0, 7].Select(b =>
        ((b & 1) != 0 ? IkeFlags.Initiator : IkeFlags.None)
        | ((b & 2) != 0 ? IkeFlags.Version : IkeFlags.None)
        | ((b & 4) != 0 ? IkeFlags.Response : IkeFlags.None));

    public static Gen<IkeMessage> Message(int maxPayloads = 8) => Gen.Select(
        Gen.ULong, Gen.ULong, Gen.Byte, Flags, Gen.UInt, Payload.List[0, maxPayloads],
        (spiI, spiR, exchange, flags, id, payloads) => new IkeMessage
        {
            InitiatorSpi = spiI,
            ResponderSpi = spiR,
            Exchange = (ExchangeType)exchange,
            Flags = flags,
            MessageId = id,
            Payloads = payloads,
        });
}
