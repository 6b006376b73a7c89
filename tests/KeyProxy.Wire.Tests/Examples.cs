using System.Net;
using KeyProxy.Primitives;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Wire.Tests;

/// <summary>
/// The worked examples of docs/wire.md, built by the library from fixed inputs. <see cref="DocExampleTests"/>
/// checks every hex block in the document against these, so the document cannot drift from the code.
/// </summary>
internal static class Examples
{
    public static readonly byte[] Secret = Enumerable.Range(0xa0, 32).Select(i => (byte)i).ToArray();
    public static readonly SubscriberIdentity Identity = new(IdentityType.Nai, "alice@keyproxy.example");
    public static readonly Nonce16 HandsetNonce = Nonce16.Read(Enumerable.Range(0x00, 16).Select(i => (byte)i).ToArray());
    public static readonly Nonce16 EdgeNonce = Nonce16.Read(Enumerable.Range(0x10, 16).Select(i => (byte)i).ToArray());
    public const uint TunnelId = 0x101;
    public static readonly IPAddress HandsetAddress = IPAddress.Parse("10.45.0.2");
    public static readonly IPAddress PeerAddress = IPAddress.Parse("198.51.100.7");

    static readonly TrafficSelector HandsetSelector = new(0, 0, 65535, HandsetAddress, HandsetAddress);
    static readonly TrafficSelector PeerSelector = new(0, 0, 65535, IPAddress.Parse("198.51.100.0"), IPAddress.Parse("198.51.100.255"));

    static byte[] Pattern(int start, int length) => Enumerable.Range(start, length).Select(i => (byte)i).ToArray();

    public static byte[] AttachKey => SubscriberKeys.DeriveAttachKey(Secret);

    public static byte[] DeliveryKey => SubscriberKeys.DeriveDeliveryKey(Secret, HandsetNonce, EdgeNonce, Identity);

    public static ProxyRequest Request() => new(1, ProxyRequestFlags.None, HandsetNonce, [HandsetSelector], [PeerSelector],
    [
        new EspSuitePreference(EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None, EsnMode.NoEsn),
        new EspSuitePreference(EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128, EsnMode.NoEsn),
    ]);

    public static KeyTransferContent Install() => new SaInstall(1, HandsetNonce, 0, new SaBundle
    {
        InboundSpi = 0xc1000001,
        OutboundSpi = 0xc2000002,
        Encryption = EncryptionAlgorithm.AesGcm16,
        KeyBits = 256,
        Integrity = IntegrityAlgorithm.None,
        Esn = EsnMode.NoEsn,
        Mode = ChildSaMode.Tunnel,
        UdpEncapsulation = true,
        PeerAddress = PeerAddress,
        PeerPort = 4500,
        HandsetPort = 4500,
        Lifetimes = new SaLifetimes(3300, 3600, 0, 0, 0, 0),
        InboundEncryptionKey = Pattern(0x20, 36),
        InboundIntegrityKey = ReadOnlyMemory<byte>.Empty,
        OutboundEncryptionKey = Pattern(0x60, 36),
        OutboundIntegrityKey = ReadOnlyMemory<byte>.Empty,
        LocalSelectors = [HandsetSelector],
        RemoteSelectors = [PeerSelector],
    });

    static byte[] Plain(KeyTransferContent content)
    {
        var bytes = new byte[content.GetEncodedLength()];
        content.TryWrite(bytes, out _);
        return bytes;
    }

    static byte[] Udp(IPAddress source, ushort sourcePort, IPAddress destination, ushort destinationPort, ReadOnlySpan<byte> payload)
    {
        var s = IpAddressValue.FromIPAddress(source);
        var bytes = new byte[UdpPacketWriter.HeaderSize(s.Family) + payload.Length];
        UdpPacketWriter.TryWrite(bytes, s, sourcePort, IpAddressValue.FromIPAddress(destination), destinationPort, payload, out _);
        return bytes;
    }

    static byte[] Sealed(ulong counter, KeyTransferContent content)
    {
        using var sealer = new KeyTransferSealer(DeliveryKey, new FixedRandom(0xe0));
        return sealer.Seal(counter, content);
    }

    /// <summary>Every example by the name docs/wire.md uses in its <c>&lt;!-- example: name --&gt;</c> markers.</summary>
    public static IReadOnlyDictionary<string, byte[]> All() => new Dictionary<string, byte[]>
    {
        ["ipv4-udp"] = Udp(IPAddress.Parse("192.0.2.1"), 500, PeerAddress, 500, "KeyProxy"u8),
        ["ipv6-udp"] = Udp(IPAddress.Parse("2001:db8::1"), 500, IPAddress.Parse("2001:db8::7"), 4500, "KeyProxy"u8),
        ["proxy-request"] = Request().ToArray(),
        ["sa-install-plaintext"] = Plain(Install()),
        ["sa-delete-plaintext"] = Plain(new SaDelete(SaDeleteReason.PeerDeleted, [0xc1000001])),
        ["proxy-failure-plaintext"] = Plain(new ProxyFailure(2, KeyProxyReason.PeerAuthenticationFailed, "authentication failed at peer")),
        ["sa-delete-sealed"] = Sealed(2, new SaDelete(SaDeleteReason.PeerDeleted, [0xc1000001])),
        ["attach-key"] = AttachKey,
        ["delivery-key"] = DeliveryKey,
        ["attach-request"] = new AttachRequest(Identity, HandsetNonce).ToArray(),
        ["attach-challenge"] = new AttachChallenge(HandsetNonce, EdgeNonce).ToArray(),
        ["attach-response"] = new AttachResponse(Identity, HandsetNonce, EdgeNonce,
            AttachProofs.ComputeAttachProof(AttachKey, Identity, HandsetNonce, EdgeNonce)).ToArray(),
        ["attach-accept"] = new AttachAccept(HandsetAddress,
            AttachProofs.ComputeAcceptProof(AttachKey, HandsetNonce, EdgeNonce, TunnelId, HandsetAddress)) { TunnelId = TunnelId }.ToArray(),
        ["attach-reject"] = new AttachReject(HandsetNonce, KeyProxyReason.UnknownSubscriber, "unknown subscriber").ToArray(),
        ["detach"] = new Detach(AttachProofs.ComputeDetachProof(DeliveryKey, TunnelId)) { TunnelId = TunnelId }.ToArray(),
        ["detach-ack"] = new DetachAck { TunnelId = TunnelId }.ToArray(),
        ["echo-request"] = new EchoRequest(0xdeadbeef) { TunnelId = TunnelId }.ToArray(),
        ["data"] = new DataPacket(Udp(HandsetAddress, 4500, PeerAddress, 4500, [0xff])) { TunnelId = TunnelId }.ToArray(),
        ["proxy-refusal"] = new ProxyRefusal(1, PeerAddress, KeyProxyReason.PeerNotAllowed, "peer not allowed") { TunnelId = TunnelId }.ToArray(),
    };
}
