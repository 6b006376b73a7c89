using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Abstractions;
using KeyProxy.Edge.Admission;
using KeyProxy.Edge.Classification;
using KeyProxy.Edge.Profiles;
using KeyProxy.Edge.Routing;
using KeyProxy.Edge.Tracing;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Edge;

/// <summary>
/// The network side: what arrives on a handset's own sockets. S22: IKE for a proxied handset goes
/// to its proxy session (by initiator SPI, or a new responder session for an IKE_SA_INIT the
/// profile allows); S24: ESP in UDP and IKE for a handset without the service are routed to the
/// handset untouched; proxy requests and key transfers from this side are dropped.
/// </summary>
public sealed partial class EdgeGateway
{
    private async Task NetworkLoopAsync(HandsetLink link, bool natTraversal)
    {
        var socket = natTraversal ? link.NatTSocket! : link.IkeSocket!;
        // Room in front of the payload for the access header and the IP/UDP headers the handset sees.
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        int headroom = AccessData.HeaderSize + UdpPacketWriter.HeaderSize(link.AddressValue.Family);
        var from = new SocketAddress(socket.AddressFamily);
        var token = link.Stop.Token;
        while (!token.IsCancellationRequested)
        {
            int received;
            try { received = await socket.ReceiveFromAsync(buffer.AsMemory(headroom), SocketFlags.None, from, token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            try
            {
                HandleNetworkDatagram(link, natTraversal, buffer, headroom, received, from);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Metrics.Drop(EdgeDropReason.Malformed);
                LogNetworkError(link.Nai, e.Message);
            }
        }
    }

    /// <summary>
    /// What the network side may not send a handset's address, counted and dropped on either packet path: a NAT
    /// keepalive ends here (RFC 3948 2.3), and proxy requests and key transfers come only from the access side (S21, S23).
    /// </summary>
    private bool DroppedFromNetwork(NetworkPacketKind kind)
    {
        EdgeDropReason reason;
        switch (kind)
        {
            case NetworkPacketKind.NatKeepalive: reason = EdgeDropReason.NatKeepalive; break;
            case NetworkPacketKind.ProxyRequest: reason = EdgeDropReason.ProxyRequestFromNetwork; break;
            case NetworkPacketKind.KeyTransfer: reason = EdgeDropReason.KeyTransferFromNetwork; break;
            case NetworkPacketKind.Malformed: reason = EdgeDropReason.Malformed; break;
            default: return false;
        }
        Metrics.Drop(reason);
        return true;
    }

    private void HandleNetworkDatagram(HandsetLink link, bool natTraversal, byte[] buffer, int headroom, int length, SocketAddress from)
    {
        var payload = buffer.AsSpan(headroom, length);
        var kind = EdgeClassifier.ClassifyNetwork(payload, natTraversal, out int ikeOffset, out ulong initiatorSpi, out _);
        if (kind == NetworkPacketKind.Esp)
        {
            RouteToHandset(link, natTraversal, buffer, headroom, length, from);
            return;
        }
        if (DroppedFromNetwork(kind)) return;

        // S22 applies to handsets with the proxy service; for the others IKE is just traffic (S24).
        if (!link.Profile.ProxyService)
        {
            RouteToHandset(link, natTraversal, buffer, headroom, length, from);
            return;
        }
        var peer = _peers.From(from);
        HandleProxiedIke(link, kind, natTraversal, peer.Endpoint, payload[ikeOffset..], initiatorSpi, peer.Text);
    }

    /// <summary>S22: IKE from the network for a handset with the proxy service, to its session or a new responder session.</summary>
    private void HandleProxiedIke(HandsetLink link, NetworkPacketKind kind, bool natTraversal, IPEndPoint peer, ReadOnlySpan<byte> ike, ulong initiatorSpi,
        string? peerText = null)
    {
        Metrics.Packet(EdgePacketClass.IkeFromNetwork);
        var datagram = new IkeDatagram(peerText ?? peer.Address.ToString(), peer.Port, natTraversal, ike.ToArray());
        if (_routes.TryGet(link.AddressValue, initiatorSpi, out var session))
        {
            // Issue 20 item 3: the datagram's span joins the trace of the exchange that started the session here.
            var previous = Activity.Current;
            var span = EdgeTracing.StartIkeReceive(EdgeId, link.Nai, datagram.PeerAddress, session, (ExchangeType)datagram.Message[IkeHeader.ExchangeTypeOffset], _traces);
            try { DispatchRoutedIke(link, kind, peer, session, datagram, span); }
            finally { EdgeTracing.Leave(span, previous); }
            return;
        }
        if (kind != NetworkPacketKind.IkeSaInitRequest)
        {
            Metrics.Drop(EdgeDropReason.NoRoute);
            LogNoRoute(peer.ToString(), link.Nai, initiatorSpi);
            return;
        }
        StartResponderSession(link, natTraversal, initiatorSpi, peer, datagram);
    }

    /// <summary>IKE on a route: to its session, as StartResponder when it is the retransmitted IKE_SA_INIT that started it.</summary>
    private void DispatchRoutedIke(HandsetLink link, NetworkPacketKind kind, IPEndPoint peer, Guid session, IkeDatagram datagram, Activity? span)
    {
        if (kind == NetworkPacketKind.IkeSaInitRequest && IsResponderOf(link, IpAddressValue.FromIPAddress(peer.Address), session))
        {
            // A retransmitted IKE_SA_INIT (RFC 7296 2.1) to the responder session this edge started for it. Sent
            // as StartResponder, which a live session treats as HandleIke: if the session died with its silo
            // before it began, a fresh activation starts it again. As HandleIke it was dropped, and the route
            // kept every retransmission away until the initiator gave up (issue 15, core silo kill -9 test).
            var start = Metrics.GrainCall(nameof(IProxySessionGrain.StartResponder));
            Observe(CallSessionAsync(session, _grains.Reference<IProxySessionGrain>(session).StartResponder(Binding(link), datagram), start, span), "StartResponder");
            return;
        }
        var timer = Metrics.GrainCall(nameof(IProxySessionGrain.HandleIke));
        Observe(CallSessionAsync(session, _grains.Reference<IProxySessionGrain>(session).HandleIke(datagram), timer, span), "HandleIke");
    }

    /// <summary>An IKE_SA_INIT request with no route: a new responder session when the profile and the half-open limits allow.</summary>
    private void StartResponderSession(HandsetLink link, bool natTraversal, ulong initiatorSpi, IPEndPoint peer, IkeDatagram datagram)
    {
        // Flow 2 (claim 3): the peer starts IKE towards the handset; the profile must let the proxy answer.
        var decision = link.Profile.CheckResponder(IpAddressValue.FromIPAddress(peer.Address));
        if (decision != ProxyDecision.Allowed)
        {
            Metrics.Drop(EdgeDropReason.ProxyRefused);
            LogRefused(link.Nai, peer.Address.ToString(), decision == ProxyDecision.RoleNotAllowed ? Wire.KeyProxyReason.RoleNotAllowed : Wire.KeyProxyReason.PeerNotAllowed);
            return;
        }
        // RFC 7296 2.6 and DESIGN "Security": half-open SAs are bounded, and above a threshold only an
        // initiator that returns our cookie (so owns its address) gets a session and its DH work.
        var peerValue = IpAddressValue.FromIPAddress(peer.Address);
        var now = DateTimeOffset.UtcNow;
        bool validCookie = false;
        IkeMessage? request = null;
        if (_halfOpen.CookiesRequired(now))
        {
            RotateCookieSecret();
            if (!IkeCodec.TryDecode(datagram.Message, out request, out _))
            {
                Metrics.Drop(EdgeDropReason.Malformed);
                return;
            }
            validCookie = CookieChallenge.HasValidCookie(request, peer.Address, _cookies);
        }
        var session = Guid.NewGuid();
        switch (_halfOpen.TryStart(session, peerValue, validCookie, now))
        {
            case HalfOpenDecision.DemandCookie:
                // Issue 8: a COOKIE answer costs no state, but towards a forged source it is a reflection; the edge
                // sends a bounded rate of them, and drops the rest unanswered.
                if (!_cookieAnswers.TryTake(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency))
                {
                    Metrics.Drop(EdgeDropReason.CookieRateLimited);
                    return;
                }
                Metrics.Drop(EdgeDropReason.CookieDemanded);
                // (decoded above unless another handset's loop raised the count between the two checks)
                if ((request is not null || IkeCodec.TryDecode(datagram.Message, out request, out _))
                    && CookieChallenge.BuildResponse(request, peer.Address, _cookies) is { } response)
                    SendIke(link, new IkeDatagram(datagram.PeerAddress, datagram.PeerPort, natTraversal, response));
                return;
            case HalfOpenDecision.OverEdgeLimit:
                Metrics.Drop(EdgeDropReason.HalfOpenLimit);
                return;
            case HalfOpenDecision.OverPeerLimit:
                Metrics.Drop(EdgeDropReason.HalfOpenPeerLimit);
                return;
        }
        if (!_routes.TryAdd(link.AddressValue, initiatorSpi, session))
        {
            _halfOpen.Forget(session);
            Metrics.Drop(EdgeDropReason.NoRoute);
            return;
        }
        lock (link.Requests)
        {
            if (link.SessionsByPeer.Count >= 256) link.SessionsByPeer.Clear();
            link.SessionsByPeer[peerValue] = session;
        }
        var call = Metrics.GrainCall(nameof(IProxySessionGrain.StartResponder));
        // Flow 2's trace begins here; the peer's IKE_AUTH is parented to it (ExchangeTraces).
        var previous = Activity.Current;
        var span = EdgeTracing.StartIkeReceive(EdgeId, link.Nai, datagram.PeerAddress, session, ExchangeType.IkeSaInit, exchanges: null);
        if (span is not null) _traces.Remember(session, span.Context);
        try { Observe(CallSessionAsync(session, _grains.Reference<IProxySessionGrain>(session).StartResponder(Binding(link), datagram), call, span), "StartResponder"); }
        finally { EdgeTracing.Leave(span, previous); }
    }

    /// <summary>Whether <paramref name="session"/> is the responder session this edge last started for <paramref name="peer"/>.</summary>
    private static bool IsResponderOf(HandsetLink link, IpAddressValue peer, Guid session)
    {
        lock (link.Requests) return link.SessionsByPeer.TryGetValue(peer, out var started) && started == session;
    }

    /// <summary>
    /// S24 towards the handset: the datagram as an IP/UDP packet from the peer to the handset's
    /// address, in a Data message, built in place in front of the payload (no copy, no allocation).
    /// </summary>
    private void RouteToHandset(HandsetLink link, bool natTraversal, byte[] buffer, int headroom, int length, SocketAddress from)
    {
        if (!TryPeer(from, out var peer, out ushort peerPort) || peer.Family != link.AddressValue.Family)
        {
            Metrics.Drop(EdgeDropReason.Unroutable);
            return;
        }
        int ipStart = AccessData.HeaderSize + UdpPacketWriter.HeaderSize(link.AddressValue.Family) - UdpPacketWriter.HeaderSize(peer.Family);
        ushort localPort = (ushort)(natTraversal ? _network.HandsetNatTPort : _network.HandsetIkePort);
        if (UdpPacketWriter.TryWrite(buffer.AsSpan(ipStart), peer, peerPort, link.AddressValue, localPort,
                buffer.AsSpan(headroom, length), out int ipLength) != PacketError.None)
        {
            Metrics.Drop(EdgeDropReason.Unroutable);
            return;
        }
        AccessData.WriteHeader(buffer.AsSpan(ipStart - AccessData.HeaderSize), link.TunnelId);
        SendToHandset(link, buffer.AsSpan(ipStart - AccessData.HeaderSize, AccessData.HeaderSize + ipLength));
        Metrics.Packet(EdgePacketClass.RoutedToHandset);
    }

    /// <summary>Address and port out of a socket address, without allocating.</summary>
    private static bool TryPeer(SocketAddress address, out IpAddressValue peer, out ushort port)
    {
        var bytes = address.Buffer.Span;
        port = (ushort)(bytes[2] << 8 | bytes[3]);
        switch (address.Family)
        {
            case AddressFamily.InterNetwork:
                peer = IpAddressValue.FromBytes(bytes.Slice(4, 4));
                return true;
            case AddressFamily.InterNetworkV6:
                peer = IpAddressValue.FromBytes(bytes.Slice(8, 16));
                return true;
            default:
                peer = default;
                return false;
        }
    }

    /// <summary>Sends a proxy session's IKE message as the handset (RFC 3948: the non-ESP marker on NAT-T, and on the IKE port when neither end uses 500).</summary>
    private bool SendIke(HandsetLink link, IkeDatagram datagram)
    {
        if (_tun is not null) return SendIkePacket(link, datagram);
        var socket = datagram.NatTraversal ? link.NatTSocket! : link.IkeSocket!;
        var to = _peers.To(datagram.PeerAddress, datagram.PeerPort);
        try
        {
            // strongSwan's rule, RFC 3948 generalised: on the IKE socket the marker goes on only when neither port is 500.
            bool marker = NeedsNonEspMarker(datagram);
            if (marker) SendWithMarker(socket, datagram.Message, to);
            else socket.SendTo(datagram.Message, SocketFlags.None, to);
            Metrics.Packet(EdgePacketClass.IkeToNetwork);
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Metrics.Drop(EdgeDropReason.SendFailed);
            return false;
        }
    }

    /// <summary>The non-ESP marker (four zero octets, RFC 3948 2.2) and the message, from a pooled buffer.</summary>
    private static void SendWithMarker(Socket socket, byte[] message, IPEndPoint to)
    {
        int length = NonEspMarker.Length + message.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            buffer.AsSpan(0, NonEspMarker.Length).Clear();
            message.CopyTo(buffer, NonEspMarker.Length);
            socket.SendTo(buffer.AsSpan(0, length), SocketFlags.None, to);
        }
        finally { ArrayPool<byte>.Shared.Return(buffer); }
    }

    /// <summary>strongSwan's rule, RFC 3948 generalised: the non-ESP marker on NAT-T, and on the IKE port when neither end uses 500.</summary>
    private bool NeedsNonEspMarker(IkeDatagram datagram) => datagram.NatTraversal || datagram.PeerPort != 500 && _network.HandsetIkePort != 500;

    /// <summary>A sealed key transfer into the tunnel: UDP peer:500 to handset:500 (docs/wire.md).</summary>
    internal bool DeliverKeyTransfer(uint tunnelId, string peerAddress, byte[] sealedMessage)
    {
        if (!_tunnels.TryGetValue(tunnelId, out var link) || !IPAddress.TryParse(peerAddress, out var peer)) return false;
        var peerValue = IpAddressValue.FromIPAddress(peer);
        var datagram = new byte[AccessData.HeaderSize + UdpPacketWriter.HeaderSize(peerValue.Family) + sealedMessage.Length];
        if (UdpPacketWriter.TryWrite(datagram.AsSpan(AccessData.HeaderSize), peerValue, 500, link.AddressValue, 500, sealedMessage, out int n) != PacketError.None)
            return false;
        AccessData.WriteHeader(datagram, tunnelId);
        SendToHandset(link, datagram.AsSpan(0, AccessData.HeaderSize + n));
        Metrics.Packet(EdgePacketClass.KeyTransferToHandset);
        return true;
    }

    internal void RemoveRoutes(Guid session)
    {
        _routes.RemoveSession(session);
        _halfOpen.Forget(session);
        _traces.Forget(session);
        _established.TryRemove(session, out _);
    }

    /// <summary>The session's IKE SA is established: no longer half-open, listed, and its later exchanges are traces of their own.</summary>
    private void SessionEstablished(Guid session)
    {
        _halfOpen.Forget(session);
        _traces.Established(session);
        if (_routes.HasSession(session)) _established[session] = 0;
    }

    /// <summary>The established sessions routed here, for the session directory's listing.</summary>
    internal IReadOnlyList<Guid> EstablishedSessions()
    {
        var list = new List<Guid>(_established.Count);
        foreach (var session in _established.Keys)
            if (_routes.HasSession(session)) list.Add(session);
        return list;
    }

    /// <summary>
    /// Calls a proxy session for a handset here, then does what it answers (<see cref="Apply"/>), then ends the edge's
    /// span of the call (null: not traced).
    /// </summary>
    private async Task CallSessionAsync(Guid session, Task<EdgeActions> call, GrainCallTimer timer, Activity? span)
    {
        Exception? failure = null;
        try
        {
            EdgeActions actions;
            using (timer) actions = await call;
            Apply(session, actions);
        }
        catch (Exception e)
        {
            failure = e;
            throw;
        }
        finally { EdgeTracing.CallEnded(span, failure); }
    }

    /// <summary>
    /// Does what a proxy session's turn produced (issue 17: its answer instead of calls back to this edge), in the order
    /// <see cref="EdgeActions"/> gives: the session's old routes out, its new routes in (RFC 7296 2.18: before the response
    /// that completes an IKE SA rekey leaves), the key transfers delivered, the datagrams sent as the handset, the IKE SA
    /// counted established, every route out when its IKE SA ended. A key transfer that cannot be delivered (the handset is
    /// no longer attached here) is reported back to the session with a one-way call.
    /// </summary>
    internal void Apply(Guid session, EdgeActions actions)
    {
        if (actions.IsEmpty) return;
        HandsetLink? link = null;
        IpAddressValue handset = default;
        if (IPAddress.TryParse(actions.HandsetAddress, out var address))
        {
            handset = IpAddressValue.FromIPAddress(address);
            _byAddress.TryGetValue(address, out link);
        }
        if (actions.ResetRoutes) _routes.RemoveSession(session);
        // A route for a handset no longer attached here would outlive it (its detach removed the handset's routes).
        if (link is not null)
            foreach (var spi in actions.Routes) _routes.TryAdd(handset, spi, session);
        // The key transfers before the datagrams: a responder's CHILD_SA is installed at the handset before the IKE_AUTH
        // (or CREATE_CHILD_SA) response that lets the peer use it leaves, as an IPsec responder installs its inbound SA
        // before it answers. Sent the other way round, the peer's first ESP packet could reach the handset through this
        // edge's access socket ahead of the install and be dropped as "no SA" (seen in a fresh-check, SessionLeaseTests).
        List<byte>? undelivered = null;
        foreach (var transfer in actions.KeyTransfers)
        {
            var span = EdgeTracing.StartKeyTransferDelivery(EdgeId, session, (KeyTransferKind)transfer.Kind, transfer.TraceParent);
            bool delivered = DeliverKeyTransfer(transfer.TunnelId, transfer.PeerAddress, transfer.Message);
            EdgeTracing.KeyTransferDelivered(span, delivered);
            if (!delivered) (undelivered ??= []).Add(transfer.Kind);
        }
        if (actions.Refusal is { } refusal && link is not null && IPAddress.TryParse(refusal.PeerAddress, out var refusedPeer))
        {
            SendToHandset(link, new ProxyRefusal(refusal.RequestId, refusedPeer, (KeyProxyReason)refusal.Reason, refusal.Text) { TunnelId = link.TunnelId }.ToArray());
            LogRefused(link.Nai, refusal.PeerAddress, (KeyProxyReason)refusal.Reason);
        }
        foreach (var datagram in actions.Datagrams)
        {
            if (link is null) Metrics.Drop(EdgeDropReason.NoRoute);
            else SendIke(link, datagram);
        }
        if (actions.Established) SessionEstablished(session);
        if (actions.Ended) RemoveRoutes(session);
        if (undelivered is null) return;
        foreach (var kind in undelivered)
            Observe(_grains.Reference<IProxySessionGrain>(session).KeyTransferUndelivered(kind), nameof(IProxySessionGrain.KeyTransferUndelivered));
    }

    /// <summary>RFC 7296 2.6: the cookie secret changes now and then; the previous one stays valid for one more period.</summary>
    private void RotateCookieSecret()
    {
        long started = Interlocked.Read(ref _cookieRotatedAt);
        if (Stopwatch.GetElapsedTime(started) < _options.CookieSecretLifetime) return;
        if (Interlocked.CompareExchange(ref _cookieRotatedAt, Stopwatch.GetTimestamp(), started) == started) _cookies.Rotate();
    }

    internal void Revoke(string nai, uint tunnelId)
    {
        if (_byNai.TryGetValue(nai, out var link) && link.TunnelId == tunnelId)
        {
            if (_routes.SessionsOf(link.AddressValue).Count > 0)
            {
                // Sessions the subscriber did not close: closed first, off the edge grain's turn (they send their
                // DELETEs through this edge grain, and the subscriber waiting for this call seals their key transfers).
                _ = Task.Run(async () =>
                {
                    await CloseLeftoverSessionsAsync(link);
                    Remove(link);
                    LogRevoked(nai, tunnelId);
                });
                return;
            }
            Remove(link);
            LogRevoked(nai, tunnelId);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "IKE from {Peer} for {Nai} dropped: no session has IKE SPIi {Spi:x16}")]
    private partial void LogNoRoute(string peer, string nai, ulong spi);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Network datagram for {Nai} failed: {Error}")]
    private partial void LogNetworkError(string nai, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Profile copy of {Nai} revoked (tunnel {TunnelId}): the handset attached elsewhere")]
    private partial void LogRevoked(string nai, uint tunnelId);
}
