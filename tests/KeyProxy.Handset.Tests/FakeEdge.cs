using System.Net;
using System.Security.Cryptography;
using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset.Tests;

/// <summary>
/// An edge and a peer in memory, just enough to exercise the handset: attach with the real
/// proofs, a proxy request answered by an SA pair made up here (no IKE) and sealed into a real key
/// transfer, and a peer that decrypts the handset's ESP and echoes it back encrypted.
/// </summary>
internal sealed class FakeEdge : IDisposable
{
    public const uint Tunnel = 0x1234;
    private readonly byte[] _secret;
    private readonly SubscriberIdentity _identity;
    private Nonce16 _handsetNonce, _edgeNonce;
    private KeyTransferSealer? _sealer;
    private ulong _counter;
    private uint _nextSpi = 0x1000;

    public FakeEdge(SubscriberIdentity identity, byte[] secret, IPAddress handsetAddress)
    {
        _identity = identity;
        _secret = secret;
        HandsetAddress = handsetAddress;
    }

    public IPAddress HandsetAddress { get; }

    /// <summary>Answer proxy requests: Install (default), refuse at the edge, fail in the "proxy", or stay silent.</summary>
    public ProxyBehaviour Behaviour { get; set; } = ProxyBehaviour.Install;

    /// <summary>Answer ESP with an encrypted echo of the inner packet.</summary>
    public bool Echo { get; set; } = true;

    /// <summary>Answer attach and echo requests (false: an edge that went away).</summary>
    public bool AnswerAttach { get; set; } = true;

    public int EchoRequests { get; private set; }

    /// <summary>Flip a bit in the network proof of AttachAccept (a fake network).</summary>
    public bool ForgeAccept { get; set; }

    public List<ProxyRequest> Requests { get; } = [];

    /// <summary>The inner packets the peer decrypted from the handset's ESP.</summary>
    public List<byte[]> PeerReceived { get; } = [];

    /// <summary>The outbound SPIs (handset's) the peer saw, in order.</summary>
    public List<uint> PeerSawSpis { get; } = [];

    /// <summary>Peer-side pairs by the handset's inbound SPI (peer outbound = handset inbound).</summary>
    public Dictionary<uint, EspSaPair> PeerSas { get; } = [];

    public List<byte[]> SentKeyTransfers { get; } = [];

    public EspSuite Suite { get; set; } = new(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);

    public SaLifetimes Lifetimes { get; set; }

    /// <summary>Install SAs as plain ESP (IP protocol 50, no NAT seen, a TUN edge) instead of ESP in UDP to 4500.</summary>
    public bool PlainEsp { get; set; }

    /// <summary>The IP protocol of each ESP packet the peer got from the handset (17: in UDP, 50: plain).</summary>
    public List<byte> PeerSawProtocols { get; } = [];

    public IReadOnlyList<byte[]> Handle(byte[] datagram, DateTimeOffset now)
    {
        var replies = new List<byte[]>();
        if (AccessData.TryRead(datagram, out _, out var packet) == WireError.None)
        {
            HandleData(packet.ToArray(), replies, now);
            return replies;
        }
        Assert.Equal(WireError.None, AccessMessage.TryParse(datagram, out var message));
        switch (message)
        {
            case AttachRequest r when AnswerAttach:
                Assert.Equal(_identity, r.Identity);
                _handsetNonce = r.HandsetNonce;
                _edgeNonce = Nonce16.Create(SecureRandomSource.Instance);
                replies.Add(new AttachChallenge(_handsetNonce, _edgeNonce).ToArray());
                break;
            case AttachResponse r when AnswerAttach:
                var attachKey = SubscriberKeys.DeriveAttachKey(_secret);
                if (!AttachProofs.VerifyAttachProof(attachKey, r.Identity, r.HandsetNonce, r.EdgeNonce, r.Proof.Span))
                {
                    replies.Add(new AttachReject(r.HandsetNonce, KeyProxyReason.AuthenticationFailed, "attach proof did not verify").ToArray());
                    break;
                }
                var proof = AttachProofs.ComputeAcceptProof(attachKey, _handsetNonce, _edgeNonce, Tunnel, HandsetAddress);
                if (ForgeAccept) proof[0] ^= 1;
                _sealer?.Dispose();
                _sealer = new KeyTransferSealer(SubscriberKeys.DeriveDeliveryKey(_secret, _handsetNonce, _edgeNonce, _identity));
                replies.Add(new AttachAccept(HandsetAddress, proof) { TunnelId = Tunnel }.ToArray());
                break;
            case EchoRequest e when AnswerAttach:
                EchoRequests++;
                replies.Add(new EchoReply(e.Opaque) { TunnelId = e.TunnelId }.ToArray());
                break;
            case Detach d:
                replies.Add(new DetachAck { TunnelId = d.TunnelId }.ToArray());
                break;
        }
        return replies;
    }

    private void HandleData(byte[] packet, List<byte[]> replies, DateTimeOffset now)
    {
        Assert.Equal(PacketError.None, IpPacket.TryRead(packet, out var ip));
        Assert.Equal(IpAddressValue.FromIPAddress(HandsetAddress), ip.Source);
        if (ip.Protocol == IpPacket.Esp)
        {
            PeerGotEsp(ip.Payload.ToArray(), ip.Protocol, replies, now);
            return;
        }
        Assert.Equal(17, ip.Protocol);
        Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out var udp));
        var peer = ip.Destination;
        if (udp.DestinationPort == 500 && KeyProxyHeader.Classify(udp.Payload) == KeyProxyMessageKind.ProxyRequest)
        {
            Assert.Equal(WireError.None, ProxyRequest.TryParse(udp.Payload, out var request));
            Requests.Add(request!);
            switch (Behaviour)
            {
                case ProxyBehaviour.Install:
                    replies.Add(KeyTransferTo(peer, Install(request!.RequestId, request.HandsetNonce, peer.ToIPAddress(), replaces: 0, now)));
                    break;
                case ProxyBehaviour.RefuseAtEdge:
                    replies.Add(new ProxyRefusal(request!.RequestId, peer.ToIPAddress(), KeyProxyReason.PeerNotAllowed, "peer not in your profile") { TunnelId = Tunnel }.ToArray());
                    break;
                case ProxyBehaviour.FailInProxy:
                    replies.Add(KeyTransferTo(peer, new ProxyFailure(request!.RequestId, KeyProxyReason.PeerAuthenticationFailed, "authentication failed at peer")));
                    break;
            }
            return;
        }
        if (udp.DestinationPort == 4500) PeerGotEsp(udp.Payload.ToArray(), ip.Protocol, replies, now);
    }

    private void PeerGotEsp(byte[] esp, byte protocol, List<byte[]> replies, DateTimeOffset now)
    {
        PeerSawProtocols.Add(protocol);
        Assert.True(EspPacket.TryReadSpi(esp, out uint spi));
        PeerSawSpis.Add(spi);
        var pair = PeerSas.Values.Single(p => p.Inbound.Spi == spi);
        var inner = new byte[esp.Length];
        var r = pair.Inbound.Decrypt(esp, inner, now);
        Assert.Equal(EspStatus.Ok, r.Status);
        var decrypted = inner[..r.BytesWritten];
        PeerReceived.Add(decrypted);
        if (Echo) replies.Add(EspTo(pair, Reverse(decrypted), now));
    }

    /// <summary>A new SA pair: the handset's bundle, and the mirrored pair for the peer side.</summary>
    public SaInstall Install(uint requestId, Nonce16 nonce, IPAddress peer, uint replaces, DateTimeOffset now)
    {
        uint handsetIn = _nextSpi++, handsetOut = _nextSpi++;
        int encLength = Suite.EncryptionKeyMaterialLength, intLength = Suite.IntegrityKeyLength;
        byte[] inEnc = RandomNumberGenerator.GetBytes(encLength), inInt = RandomNumberGenerator.GetBytes(intLength);
        byte[] outEnc = RandomNumberGenerator.GetBytes(encLength), outInt = RandomNumberGenerator.GetBytes(intLength);
        var handsetTs = new TrafficSelector(0, 0, 65535, HandsetAddress, HandsetAddress);
        var peerTs = new TrafficSelector(0, 0, 65535, peer, peer);
        var bundle = new SaBundle
        {
            InboundSpi = handsetIn, OutboundSpi = handsetOut,
            Encryption = Suite.Encryption, KeyBits = (ushort)Suite.EncryptionKeyBits, Integrity = Suite.Integrity, Esn = Suite.Esn,
            Mode = ChildSaMode.Tunnel, UdpEncapsulation = !PlainEsp,
            PeerAddress = peer, PeerPort = PlainEsp ? (ushort)0 : (ushort)4500, HandsetPort = PlainEsp ? (ushort)0 : (ushort)4500, Lifetimes = Lifetimes,
            InboundEncryptionKey = inEnc, InboundIntegrityKey = inInt, OutboundEncryptionKey = outEnc, OutboundIntegrityKey = outInt,
            LocalSelectors = [handsetTs], RemoteSelectors = [peerTs],
        };
        PeerSas[handsetIn] = new EspSaPair(
            new InboundEspSa(new EspSaParameters { Spi = handsetOut, Suite = Suite, EncryptionKey = outEnc, IntegrityKey = outInt, LocalSelectors = [peerTs], RemoteSelectors = [handsetTs] }, now),
            new OutboundEspSa(new EspSaParameters { Spi = handsetIn, Suite = Suite, EncryptionKey = inEnc, IntegrityKey = inInt, LocalSelectors = [peerTs], RemoteSelectors = [handsetTs] }, now));
        return new SaInstall(requestId, nonce, replaces, bundle);
    }

    /// <summary>The key transfer as the edge delivers it: Data, IP/UDP peer:500 to handset:500, sealed payload.</summary>
    public byte[] KeyTransferTo(IpAddressValue peer, KeyTransferContent content)
    {
        var sealedMessage = _sealer!.Seal(++_counter, content);
        SentKeyTransfers.Add(sealedMessage);
        return DataFrom(peer, 500, 500, sealedMessage);
    }

    public byte[] KeyTransferTo(IPAddress peer, KeyTransferContent content) => KeyTransferTo(IpAddressValue.FromIPAddress(peer), content);

    /// <summary>ESP from the peer to the handset as the edge routes it (Data): in UDP, or plain (IP protocol 50) with <see cref="PlainEsp"/> or <paramref name="plain"/>.</summary>
    public byte[] EspTo(EspSaPair pair, byte[] inner, DateTimeOffset now, bool? plain = null)
    {
        var esp = new byte[pair.Outbound.GetEncryptedLength(inner.Length)];
        var r = pair.Outbound.Encrypt(inner, esp, now);
        Assert.Equal(EspStatus.Ok, r.Status);
        Assert.Equal(PacketError.None, IpPacket.TryRead(inner, out var ip));
        return plain ?? PlainEsp ? PlainEspFrom(ip.Source, esp[..r.BytesWritten]) : DataFrom(ip.Source, 4500, 4500, esp[..r.BytesWritten]);
    }

    /// <summary>A Data datagram holding IP protocol 50 from <paramref name="source"/> to the handset.</summary>
    public byte[] PlainEspFrom(IpAddressValue source, byte[] esp)
    {
        int header = IpPacketWriter.HeaderSize(source.Family);
        var datagram = new byte[AccessData.HeaderSize + header + esp.Length];
        esp.CopyTo(datagram, AccessData.HeaderSize + header);
        Assert.Equal(PacketError.None, IpPacketWriter.TryWriteHeader(datagram.AsSpan(AccessData.HeaderSize), source,
            IpAddressValue.FromIPAddress(HandsetAddress), IpPacket.Esp, esp.Length, out int n));
        AccessData.WriteHeader(datagram, Tunnel);
        return datagram[..(AccessData.HeaderSize + n)];
    }

    public byte[] DataFrom(IpAddressValue source, ushort sourcePort, ushort destinationPort, byte[] payload)
    {
        var datagram = new byte[AccessData.HeaderSize + UdpPacketWriter.HeaderSize(source.Family) + payload.Length];
        Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(datagram.AsSpan(AccessData.HeaderSize), source, sourcePort,
            IpAddressValue.FromIPAddress(HandsetAddress), destinationPort, payload, out int n));
        AccessData.WriteHeader(datagram, Tunnel);
        return datagram[..(AccessData.HeaderSize + n)];
    }

    /// <summary>The echo: the same UDP packet with addresses and ports swapped.</summary>
    public static byte[] Reverse(byte[] packet)
    {
        Assert.Equal(PacketError.None, IpPacket.TryRead(packet, out var ip));
        Assert.Equal(PacketError.None, UdpDatagram.TryRead(ip, out var udp));
        var reply = new byte[packet.Length];
        Assert.Equal(PacketError.None, UdpPacketWriter.TryWrite(reply, ip.Destination, udp.DestinationPort, ip.Source, udp.SourcePort, udp.Payload, out int n));
        return reply[..n];
    }

    public void Dispose()
    {
        _sealer?.Dispose();
        foreach (var p in PeerSas.Values) p.Dispose();
    }
}

internal enum ProxyBehaviour
{
    Install,
    RefuseAtEdge,
    FailInProxy,
    Silent,
}
