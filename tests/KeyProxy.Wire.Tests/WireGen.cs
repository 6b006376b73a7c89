using System.Net;
using CsCheck;
using KeyProxy.Primitives;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Wire.Tests;

/// <summary>CsCheck generators of valid (encodable) KeyProxy messages, IPv4 and IPv6 alike.</summary>
internal static class WireGen
{
    public static readonly Gen<IPAddress> V4 = Gen.Byte.Array[4].Select(b => new IPAddress(b));
    public static readonly Gen<IPAddress> V6 = Gen.Byte.Array[16].Select(b => new IPAddress(b));
    public static readonly Gen<IPAddress> Address = Gen.OneOf(V4, V6);

    public static readonly Gen<IpAddressValue> AddressValue = Address.Select(IpAddressValue.FromIPAddress);

    public static readonly Gen<Nonce16> Nonce = Gen.Select(Gen.ULong, Gen.ULong, (h, l) => new Nonce16(((UInt128)h << 64) | l));

    public static readonly Gen<TrafficSelector> Selector = Gen.Bool.SelectMany(v6 =>
        Gen.Select(Gen.Byte, Gen.UShort, Gen.UShort, v6 ? V6 : V4, v6 ? V6 : V4,
            (protocol, start, end, a, b) => new TrafficSelector(protocol, start, end, a, b)));

    /// <summary>A list of length 0 to <paramref name="max"/>, with the empty and the full list over-represented.</summary>
    public static Gen<T[]> List<T>(Gen<T> item, int max) =>
        Gen.Frequency((1, item.Array[0]), (1, item.Array[max]), (4, item.Array[0, max]));

    public static readonly Gen<EspSuitePreference> Suite = Gen.Select(Gen.UShort, Gen.UShort, Gen.UShort, Gen.Bool,
        (e, k, i, esn) => new EspSuitePreference((EncryptionAlgorithm)e, k, (IntegrityAlgorithm)i, esn ? EsnMode.Esn : EsnMode.NoEsn));

    public static readonly Gen<ProxyRequest> ProxyRequest = Gen.Select(
        Gen.UInt, Gen.Bool, Nonce, List(Selector, Proxy.ProxyRequest.MaxTrafficSelectors),
        List(Selector, Proxy.ProxyRequest.MaxTrafficSelectors), List(Suite, Proxy.ProxyRequest.MaxSuites),
        (id, transport, nonce, tsi, tsr, suites) => new ProxyRequest(id,
            transport ? ProxyRequestFlags.TransportMode : ProxyRequestFlags.None, nonce, tsi, tsr, suites));

    static readonly Gen<uint> Spi = Gen.UInt[SaInstall.MinSpi, uint.MaxValue];

    static readonly Gen<byte[]> Key = Gen.Frequency((3, Gen.Byte.Array[0, 64]), (1, Gen.Byte.Array[255]));

    public static readonly Gen<SaLifetimes> Lifetimes = Gen.Select(Gen.UInt, Gen.UInt, Gen.ULong, Gen.ULong, Gen.ULong, Gen.ULong,
        (a, b, c, d, e, f) => new SaLifetimes(a, b, c, d, e, f));

    public static readonly Gen<SaBundle> Bundle =
        Gen.Select(Spi, Spi, Suite, Gen.Bool, Gen.Bool, Address, Gen.UShort, Gen.UShort)
            .SelectMany(head => Gen.Select(Lifetimes, Key, Key, Key, Key,
                List(Selector, SaBundle.MaxTrafficSelectors), List(Selector, SaBundle.MaxTrafficSelectors),
                (lifetimes, k1, k2, k3, k4, local, remote) => new SaBundle
                {
                    InboundSpi = head.Item1,
                    OutboundSpi = head.Item2,
                    Encryption = head.Item3.Encryption,
                    KeyBits = head.Item3.KeyBits,
                    Integrity = head.Item3.Integrity,
                    Esn = head.Item3.Esn,
                    Mode = head.Item4 ? ChildSaMode.Transport : ChildSaMode.Tunnel,
                    UdpEncapsulation = head.Item5,
                    PeerAddress = head.Item6,
                    PeerPort = head.Item7,
                    HandsetPort = head.Item8,
                    Lifetimes = lifetimes,
                    InboundEncryptionKey = k1,
                    InboundIntegrityKey = k2,
                    OutboundEncryptionKey = k3,
                    OutboundIntegrityKey = k4,
                    LocalSelectors = local,
                    RemoteSelectors = remote,
                }));

    public static readonly Gen<KeyProxyReason> Reason = Gen.Enum<KeyProxyReason>();

    /// <summary>Texts of 0 to a few hundred characters including non-ASCII ones, and the full 1024 bytes.</summary>
    public static readonly Gen<string> Text = Gen.Frequency(
        (4, Gen.String[Gen.Char["a-zA-Z0-9 ,.éß€漢"], 0, 200]),
        (1, Gen.Const(new string('x', 1024))),
        (1, Gen.Const("")));

    public static readonly Gen<KeyTransferContent> Content = Gen.OneOf<KeyTransferContent>(
        Gen.Select(Gen.UInt, Nonce, Gen.Bool, Spi, Bundle,
            (id, nonce, rekey, replaces, sa) => new SaInstall(id, nonce, rekey ? replaces : 0, sa)),
        Gen.Select(Gen.Enum<SaDeleteReason>(), List(Gen.UInt, SaDelete.MaxSpis), (r, spis) => new SaDelete(r, spis)),
        Gen.Select(Gen.UInt, Reason, Text, (id, r, t) => new ProxyFailure(id, r, t)));

    public static readonly Gen<SubscriberIdentity> Identity = Gen.Select(Gen.Bool,
        Gen.Frequency(
            (4, Gen.String[Gen.Char["a-z0-9@.é"], 1, 60]),
            (1, Gen.Const(new string('n', SubscriberIdentity.MaxBytes)))),
        (nai, value) => new SubscriberIdentity(nai ? IdentityType.Nai : IdentityType.Msisdn, value));

    static readonly Gen<byte[]> Proof = Gen.Byte.Array[AttachProofs.Size];

    static readonly Gen<uint> Tunnel = Gen.UInt[1, uint.MaxValue];

    public static readonly Gen<AccessMessage> AccessMessage = Gen.OneOf<AccessMessage>(
        Gen.Select(Identity, Nonce, (i, n) => new AttachRequest(i, n)),
        Gen.Select(Nonce, Nonce, (h, e) => new AttachChallenge(h, e)),
        Gen.Select(Identity, Nonce, Nonce, Proof, List(Suite, Proxy.ProxyRequest.MaxSuites),
            (i, h, e, p, suites) => new AttachResponse(i, h, e, p) { Suites = suites }),
        Gen.Select(Tunnel, Address, Proof, (t, a, p) => new AttachAccept(a, p) { TunnelId = t }),
        Gen.Select(Nonce, Reason, Text, (n, r, t) => new AttachReject(n, r, t)),
        Gen.Select(Tunnel, Proof, (t, p) => new Detach(p) { TunnelId = t }),
        Tunnel.Select(t => (AccessMessage)new DetachAck { TunnelId = t }),
        Gen.Select(Tunnel, Gen.UInt, (t, o) => new EchoRequest(o) { TunnelId = t }),
        Gen.Select(Tunnel, Gen.UInt, (t, o) => new EchoReply(o) { TunnelId = t }),
        Gen.Select(Tunnel, Gen.Byte.Array[1, 1400], (t, p) => new DataPacket(p) { TunnelId = t }),
        Gen.Select(Tunnel, Gen.UInt, Address, Reason, Text, (t, id, a, r, x) => new ProxyRefusal(id, a, r, x) { TunnelId = t }));
}
