using KeyProxy.Ipsec.Esp;
using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset;

/// <summary>
/// The outbound path (seed Fig. 7): SPD lookup; protect with an SA: ESP in UDP (or plain ESP) to the
/// peer inside a Data datagram; protect without one: hold the packet and ask the network with a key exchange
/// proxy request to the peer's address; bypass: the packet as it is; discard: drop.
/// </summary>
public sealed partial class Handset
{
    /// <summary>Room <paramref name="innerPacketLength"/> needs in <see cref="Send"/>'s destination (ESP, UDP, IP and access headers).</summary>
    public static int MaxDatagramLength(int innerPacketLength) =>
        AccessData.HeaderSize + UdpPacketWriter.HeaderSize(IpFamily.V6) + EspPacket.HeaderLength + 16 + innerPacketLength + 2 + 16 + 32;

    /// <summary>
    /// Sends one IP packet from the application. On <see cref="HandsetPacketStatus.Ok"/> the access
    /// datagram is <c>datagram[..Length]</c>; <see cref="HandsetPacketStatus.Held"/> means a proxy
    /// request is under way (see <see cref="TakeOutputs"/>).
    /// </summary>
    public HandsetPacketResult Send(ReadOnlySpan<byte> packet, Span<byte> datagram)
    {
        if (State != HandsetState.Attached)
            return Drop(ref Counters.droppedNotAttached, HandsetDropReason.NotAttached);
        if (!PacketSelector.TryRead(packet, out var selector))
            return Drop(ref Counters.droppedMalformed, HandsetDropReason.Malformed);
        if (!IpPacket.HasSource(packet, _address))
            return Drop(ref Counters.droppedWrongSource, HandsetDropReason.WrongSource);

        var policy = _spd.LookupOutbound(selector);
        switch (policy?.Action ?? PolicyAction.Discard)
        {
            case PolicyAction.Bypass:
                if (AccessData.TryWrite(datagram, TunnelId, packet, out int written) != WireError.None)
                    return HandsetPacketResult.Drop(HandsetDropReason.DestinationTooSmall);
                Interlocked.Increment(ref Counters.bypassed);
                return new HandsetPacketResult(HandsetPacketStatus.Ok, written);

            case PolicyAction.Protect:
                var sa = _sad.FindOutbound(selector);
                if (sa is not null && _byOutbound.TryGetValue(sa.Spi, out var installed))
                    return Encrypt(installed, packet, datagram);
                return Hold(packet, selector, policy!);

            default:
                return Drop(ref Counters.droppedPolicy, HandsetDropReason.Policy);
        }
    }

    /// <summary>
    /// ESP (tunnel mode, RFC 4303) written straight into the datagram after room for the access,
    /// IP and UDP headers, which are then written around it (RFC 3948 2.1: UDP from the handset's
    /// encapsulation port to the peer's); a plain-ESP SA leaves out the UDP header (IP protocol 50).
    /// </summary>
    private HandsetPacketResult Encrypt(InstalledSa sa, ReadOnlySpan<byte> packet, Span<byte> datagram)
    {
        int headers = AccessData.HeaderSize + (sa.UdpEncapsulation ? UdpPacketWriter.HeaderSize(sa.Peer.Family) : IpPacketWriter.HeaderSize(sa.Peer.Family));
        if (datagram.Length < headers + sa.Pair.Outbound.GetEncryptedLength(packet.Length))
            return HandsetPacketResult.Drop(HandsetDropReason.DestinationTooSmall);
        var result = sa.Pair.Outbound.Encrypt(packet, datagram[headers..], _clock.UtcNow);
        ReportLifetime(sa, result.Lifetime);
        if (result.Status != EspStatus.Ok)
            return Drop(ref Counters.droppedEncrypt, HandsetDropReason.Encrypt);
        int ipLength;
        var written = sa.UdpEncapsulation
            ? UdpPacketWriter.TryWrite(datagram[AccessData.HeaderSize..], _address, sa.HandsetPort, sa.Peer, sa.PeerPort,
                datagram.Slice(headers, result.BytesWritten), out ipLength)
            : IpPacketWriter.TryWriteHeader(datagram[AccessData.HeaderSize..], _address, sa.Peer, IpPacket.Esp, result.BytesWritten, out ipLength);
        if (written != PacketError.None)
            return Drop(ref Counters.droppedEncrypt, HandsetDropReason.Encrypt);
        AccessData.WriteHeader(datagram, TunnelId);
        Interlocked.Increment(ref Counters.sent);
        return new HandsetPacketResult(HandsetPacketStatus.Ok, AccessData.HeaderSize + ipLength);
    }

    private HandsetPacketResult Hold(ReadOnlySpan<byte> packet, in PacketSelector selector, SecurityPolicy policy)
    {
        var now = _clock.UtcNow;
        var peer = new IpAddressValue(selector.Family == System.Net.Sockets.AddressFamily.InterNetworkV6 ? IpFamily.V6 : IpFamily.V4, selector.Destination);
        if (_refusedUntil.TryGetValue(peer, out var until))
        {
            if (now < until) return Drop(ref Counters.droppedRefused, HandsetDropReason.Refused);
            _refusedUntil.Remove(peer);
        }
        if (!_pending.TryGetValue(peer, out var request))
        {
            request = StartRequest(peer, selector, policy, now);
        }
        if (!request.Held.TryHold(packet, now))
            return Drop(ref Counters.droppedQueueFull, HandsetDropReason.QueueFull);
        Interlocked.Increment(ref Counters.held);
        return new HandsetPacketResult(HandsetPacketStatus.Held, 0);
    }

    /// <summary>
    /// The key exchange proxy request (docs/wire.md): UDP handset:500 to peer:500, TSi = this
    /// handset, TSr = the peer host, both narrowed to the policy's protocol and ports.
    /// </summary>
    private PendingProxyRequest StartRequest(IpAddressValue peer, in PacketSelector selector, SecurityPolicy policy, DateTimeOffset now)
    {
        var id = _nextRequestId++;
        if (_nextRequestId == 0) _nextRequestId = 1;
        var nonce = Nonce16.Create(_random);
        var local = policy.Local;
        var remote = policy.Remote;
        var own = _address.ToIPAddress();
        var peerAddress = peer.ToIPAddress();
        var suites = new EspSuitePreference[Config.Suites.Count];
        for (int i = 0; i < suites.Length; i++) suites[i] = EspSuitePreference.From(Config.Suites[i]);
        var request = new ProxyRequest(id, ProxyRequestFlags.None, nonce,
            [new TrafficSelector(local.IpProtocol, local.StartPort, local.EndPort, own, own)],
            [new TrafficSelector(remote.IpProtocol, remote.StartPort, remote.EndPort, peerAddress, peerAddress)],
            suites);
        var body = request.ToArray();
        var datagram = new byte[AccessData.HeaderSize + UdpPacketWriter.HeaderSize(peer.Family) + body.Length];
        UdpPacketWriter.TryWrite(datagram.AsSpan(AccessData.HeaderSize), _address, IkePort, peer, IkePort, body, out int ipLength);
        AccessData.WriteHeader(datagram, TunnelId);
        var pending = new PendingProxyRequest(id, nonce, peer, datagram[..(AccessData.HeaderSize + ipLength)],
            new HeldPackets(Config.MaxHeldPackets, Config.MaxHeldBytes));
        _pending[peer] = pending;
        SendRequest(pending, now);
        return pending;
    }

    private void SendRequest(PendingProxyRequest request, DateTimeOffset now)
    {
        request.Attempts++;
        request.RetryAt = now + Config.RequestRetry.TimeoutAfter(request.Attempts);
        Interlocked.Increment(ref Counters.proxyRequests);
        EmitDatagram(request.Datagram);
        Emit(new ProxyRequested(request.RequestId, request.Peer.ToIPAddress(), request.Attempts));
    }

    private void RetryRequests(DateTimeOffset now)
    {
        List<PendingProxyRequest>? expired = null;
        foreach (var request in _pending.Values)
        {
            if (now < request.RetryAt) continue;
            if (request.Attempts >= Config.RequestRetry.MaxAttempts) (expired ??= []).Add(request);
            else SendRequest(request, now);
        }
        if (expired is null) return;
        foreach (var request in expired)
        {
            _pending.Remove(request.Peer);
            var dropped = request.Held.Clear();
            Interlocked.Add(ref Counters.droppedHoldExpired, dropped);
            Emit(new ProxyRequestTimedOut(request.RequestId, request.Peer.ToIPAddress(), dropped));
        }
    }

    /// <summary>A refusal by the edge or a failure reported by the proxy: drop the held packets and hold down re-requests.</summary>
    private void FailRequest(uint requestId, KeyProxyReason reason, string text, bool byEdge)
    {
        foreach (var request in _pending.Values)
        {
            if (request.RequestId != requestId) continue;
            _pending.Remove(request.Peer);
            var dropped = request.Held.Clear();
            Interlocked.Add(ref Counters.droppedRefused, dropped);
            _refusedUntil[request.Peer] = _clock.UtcNow + Config.RefusalHoldDown;
            Emit(new ProxyRefused(requestId, request.Peer.ToIPAddress(), reason, text, byEdge, dropped));
            return;
        }
        Interlocked.Increment(ref Counters.controlIgnored);
    }

    private void FailAllPending()
    {
        foreach (var request in _pending.Values) Interlocked.Add(ref Counters.droppedNotAttached, request.Held.Clear());
        _pending.Clear();
    }

    private static HandsetPacketResult Drop(ref long counter, HandsetDropReason reason)
    {
        Interlocked.Increment(ref counter);
        return HandsetPacketResult.Drop(reason);
    }
}
