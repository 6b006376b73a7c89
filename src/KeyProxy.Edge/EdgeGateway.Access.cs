using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Abstractions;
using KeyProxy.Edge.Admission;
using KeyProxy.Edge.Batching;
using KeyProxy.Edge.Classification;
using KeyProxy.Edge.Profiles;
using KeyProxy.Edge.Tracing;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Edge;

/// <summary>
/// The access side: handsets' datagrams. Data is classified in the seed's order (S21 proxy
/// request, S23 key transfer from the wrong side, S24 route); attach and detach go to the
/// subscriber grain, which holds the secret.
/// </summary>
public sealed partial class EdgeGateway
{
    private async Task AccessLoopAsync()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var from = new SocketAddress(_access!.AddressFamily);
        while (!_stop.IsCancellationRequested)
        {
            int received;
            try { received = await _access.ReceiveFromAsync(buffer, SocketFlags.None, from, _stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            try
            {
                HandleAccessDatagram(buffer.AsSpan(0, received), from);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Bad input must never stop the loop: counted and logged.
                Metrics.Drop(EdgeDropReason.Malformed);
                LogAccessError(e.Message);
            }
        }
    }

    /// <summary>
    /// The batched access loop (Linux, <see cref="EdgeOptions.IoBatch"/> above 1), on a thread of its own: one socket carries
    /// every handset's tunnel, so one recvmmsg(2) takes up to a batch of their datagrams at once; each is handled in its
    /// slot as the one-at-a-time loop handles it. Waits in poll(2) only when the socket's queue is empty.
    /// </summary>
    private void AccessReceiver()
    {
        var access = _access!;
        var batch = new DatagramBatch(_options.IoBatch, 65536);
        var from = new SocketAddress(access.AddressFamily);
        var fromBuffer = from.Buffer.Span;
        try
        {
            while (!_stop.IsCancellationRequested && _accessWait!.WaitReadable(access.SafeHandle))
            {
                int n;
                do
                {
                    n = batch.Receive(access.SafeHandle);
                    for (int i = 0; i < n; i++)
                    {
                        var source = batch.Source(i);
                        if (batch.Truncated(i) || source.Length > fromBuffer.Length)
                        {
                            Metrics.Drop(EdgeDropReason.Malformed);
                            continue;
                        }
                        source.CopyTo(fromBuffer);
                        from.Size = source.Length;
                        try
                        {
                            HandleAccessDatagram(batch.Received(i), from);
                        }
                        catch (Exception e) when (e is not OutOfMemoryException)
                        {
                            Metrics.Drop(EdgeDropReason.Malformed);
                            LogAccessError(e.Message);
                        }
                    }
                }
                // A full batch: more may be queued; read again before waiting.
                while (n == batch.Slots && !_stop.IsCancellationRequested);
                // An error on a socket that is not closing is the datagram's, not the loop's (as the one-at-a-time loop).
                if (n < 0) Metrics.Drop(EdgeDropReason.Malformed);
            }
        }
        catch (ObjectDisposedException) { /* stopping */ }
    }

    private void HandleAccessDatagram(ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        var error = AccessData.TryRead(datagram, out uint tunnelId, out var packet);
        if (error == WireError.UnknownType)
        {
            Metrics.Packet(EdgePacketClass.AccessControl);
            HandleAccessControl(datagram, from);
            return;
        }
        if (error != WireError.None)
        {
            Metrics.Drop(EdgeDropReason.Malformed);
            return;
        }
        if (!_tunnels.TryGetValue(tunnelId, out var link) || !link.AccessEndpoint.Equals(from))
        {
            Metrics.Drop(EdgeDropReason.UnknownTunnel);
            return;
        }

        switch (EdgeClassifier.ClassifyAccess(packet, link.AddressValue, out var info))
        {
            case AccessPacketKind.ProxyRequest:
                Metrics.Packet(EdgePacketClass.ProxyRequest);
                HandleProxyRequest(link, packet[info.PayloadOffset..], info.Destination);
                break;
            case AccessPacketKind.Route:
                if (_tun is not null) RoutePacketToNetwork(link, packet, info);
                else RouteToNetwork(link, packet[info.PayloadOffset..], info);
                break;
            case AccessPacketKind.KeyTransfer:
                Metrics.Drop(EdgeDropReason.KeyTransferFromHandset);
                break;
            case AccessPacketKind.Spoofed:
                Metrics.Drop(EdgeDropReason.Spoofed);
                break;
            default:
                Metrics.Drop(EdgeDropReason.Malformed);
                break;
        }
    }

    /// <summary>
    /// S24 towards the network: the inner UDP datagram leaves from the handset's own socket for its
    /// source port (IKE or NAT-T: ESP in UDP), untouched. The edge has no raw socket, so other
    /// protocols and ports are counted as unroutable.
    /// </summary>
    private void RouteToNetwork(HandsetLink link, ReadOnlySpan<byte> udpPayload, in AccessPacketInfo info)
    {
        if (!info.IsUdp)
        {
            Metrics.Drop(EdgeDropReason.Unroutable);
            return;
        }
        var socket = info.SourcePort == _network.HandsetNatTPort ? link.NatTSocket!
            : info.SourcePort == _network.HandsetIkePort ? link.IkeSocket! : null;
        if (socket is null)
        {
            Metrics.Drop(EdgeDropReason.Unroutable);
            return;
        }
        try
        {
            socket.SendTo(udpPayload, SocketFlags.None, link.Destination(info.Destination, info.DestinationPort));
            Metrics.Packet(EdgePacketClass.RoutedToNetwork);
        }
        catch (SocketException)
        {
            Metrics.Drop(EdgeDropReason.SendFailed);
        }
    }

    /// <summary>S21: check the profile copy, then hand the request to a new proxy session (or refuse).</summary>
    private void HandleProxyRequest(HandsetLink link, ReadOnlySpan<byte> payload, IpAddressValue peer)
    {
        if (ProxyRequest.TryParse(payload, out var request) != WireError.None)
        {
            Metrics.Drop(EdgeDropReason.Malformed);
            return;
        }
        // Every request costs a grain activation and an IKE exchange: a handset gets a bounded rate of them.
        if (!link.ProxyRequestBucket.TryTake(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency))
        {
            Metrics.Drop(EdgeDropReason.ProxyRequestRateLimited);
            SendToHandset(link, new ProxyRefusal(request!.RequestId, peer.ToIPAddress(), KeyProxyReason.Overloaded,
                "too many key exchange proxy requests; try again later") { TunnelId = link.TunnelId }.ToArray());
            return;
        }
        byte protocol = 0;
        ushort startPort = 0, endPort = ushort.MaxValue;
        if (request!.ResponderSelectors.Count > 0)
            (protocol, startPort, endPort) = (request.ResponderSelectors[0].IpProtocol, request.ResponderSelectors[0].StartPort, request.ResponderSelectors[0].EndPort);
        var decision = link.Profile.CheckInitiator(peer, protocol, startPort, endPort);
        if (decision != ProxyDecision.Allowed)
        {
            Metrics.Drop(EdgeDropReason.ProxyRefused);
            var (reason, text) = decision switch
            {
                ProxyDecision.NotSubscribed => (KeyProxyReason.ProxyServiceNotSubscribed, "your subscription has no key exchange proxy service"),
                ProxyDecision.RoleNotAllowed => (KeyProxyReason.RoleNotAllowed, $"your profile does not let the proxy initiate towards {peer}"),
                _ => (KeyProxyReason.PeerNotAllowed, $"{peer} is outside the peers your profile allows"),
            };
            SendToHandset(link, new ProxyRefusal(request.RequestId, peer.ToIPAddress(), reason, text) { TunnelId = link.TunnelId }.ToArray());
            LogRefused(link.Nai, peer.ToString(), reason);
            return;
        }
        Guid session;
        bool retried;
        lock (link.Requests)
        {
            // A retransmitted request goes to the same session again: StartInitiator is idempotent while that session
            // lives, and re-creates it on a live silo when its activation died with a silo (issue 6, cluster tests).
            retried = link.Requests.TryGetValue(request.RequestId, out session);
            if (!retried)
            {
                // Request ids only matter while the handset may still retry them: keep the table small.
                if (link.Requests.Count >= 256) link.Requests.Clear();
                // A new request towards a peer whose IKE SA lives on (its CHILD_SA was deleted, or expired at the
                // handset) goes to that IKE SA's session: CREATE_CHILD_SA there, not a second IKE SA beside it.
                if (!link.SessionsByPeer.TryGetValue(peer, out session) || !_routes.HasSession(session))
                {
                    session = Guid.NewGuid();
                    if (link.SessionsByPeer.Count >= 256) link.SessionsByPeer.Clear();
                    link.SessionsByPeer[peer] = session;
                }
                link.Requests[request.RequestId] = session;
            }
        }
        var grain = _grains.Reference<IProxySessionGrain>(session);
        var timer = Metrics.GrainCall(nameof(IProxySessionGrain.StartInitiator));
        // Flow 1's trace begins here; the peer's answers to this session's exchange are parented to it (ExchangeTraces),
        // and so is the handset's retransmission of the same request.
        var previous = Activity.Current;
        var span = EdgeTracing.StartProxyRequest(EdgeId, link.Nai, peer, request.RequestId, session, retried ? _traces : null);
        if (span is not null && !retried) _traces.Remember(session, span.Context);
        try { Observe(CallSessionAsync(session, grain.StartInitiator(Binding(link), _peers.Text(peer), payload.ToArray()), timer, span), "StartInitiator"); }
        finally { EdgeTracing.Leave(span, previous); }
    }

    private void HandleAccessControl(ReadOnlySpan<byte> datagram, SocketAddress from)
    {
        if (AccessMessage.TryParse(datagram, out var message) != WireError.None)
        {
            Metrics.Drop(EdgeDropReason.Malformed);
            return;
        }
        switch (message)
        {
            case AttachRequest r:
                Challenge(r, from);
                break;
            case AttachResponse r:
                var key = new PendingAttachKey(Copy(from), r.HandsetNonce.Value);
                if (!_pendingAttaches.TryRemove(key, out var pending) || pending.Expires < DateTimeOffset.UtcNow
                    || pending.EdgeNonce != r.EdgeNonce.Value || pending.Nai != r.Identity.Value)
                {
                    Metrics.Drop(EdgeDropReason.Malformed);
                    return;
                }
                Observe(CompleteAttachAsync(r, Copy(from)), "Attach");
                break;
            case Detach d when _tunnels.TryGetValue(d.TunnelId, out var link) && link.AccessEndpoint.Equals(from):
                Observe(DetachAsync(link, d), "Detach");
                break;
            case EchoRequest e when _tunnels.TryGetValue(e.TunnelId, out var link) && link.AccessEndpoint.Equals(from):
                SendToHandset(link, new EchoReply(e.Opaque) { TunnelId = link.TunnelId }.ToArray());
                break;
            default:
                Metrics.Drop(EdgeDropReason.Malformed);
                break;
        }
    }

    /// <summary>AttachRequest: answer with a fresh edge nonce; the proof is checked by the subscriber grain on the response.</summary>
    private void Challenge(AttachRequest request, SocketAddress from)
    {
        if (request.Identity.Type != IdentityType.Nai)
        {
            SendTo(from, new AttachReject(request.HandsetNonce, KeyProxyReason.UnknownSubscriber, "only NAI identities attach here").ToArray());
            return;
        }
        if (_pendingAttaches.Count >= _options.MaxPendingAttaches)
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var (k, v) in _pendingAttaches)
                if (v.Expires < now) _pendingAttaches.TryRemove(k, out _);
            if (_pendingAttaches.Count >= _options.MaxPendingAttaches)
            {
                Metrics.Drop(EdgeDropReason.Overloaded);
                SendTo(from, new AttachReject(request.HandsetNonce, KeyProxyReason.Overloaded, "too many attaches in progress; try again").ToArray());
                return;
            }
        }
        var edgeNonce = Nonce16.Create(SecureRandomSource.Instance);
        _pendingAttaches[new PendingAttachKey(Copy(from), request.HandsetNonce.Value)] =
            new PendingAttach(request.Identity.Value, edgeNonce.Value, DateTimeOffset.UtcNow + _options.AttachTimeout);
        SendTo(from, new AttachChallenge(request.HandsetNonce, edgeNonce).ToArray());
    }

    /// <summary>
    /// The subscriber's Attach, asked a second time when the first met a stale activation: after a silo's death Orleans
    /// may briefly hold two activations of one subscriber, and the one whose write lost on the row's ETag is deactivated
    /// by the runtime as the exception leaves it (issue 15: a handset's re-attach after an edge kill -9 was refused as
    /// "could not complete the attach"). The second call reaches an activation that read the row as it is now.
    /// </summary>
    private async Task<AttachOutcome> AttachOnceMoreIfStaleAsync(string nai, AttachAttempt attempt)
    {
        var subscriber = _grains.GetGrain<ISubscriberSessionGrain>(nai);
        try { return await subscriber.Attach(attempt); }
        catch (Orleans.Storage.InconsistentStateException e)
        {
            LogGrainCallFailed("Attach (a stale subscriber activation; asked again)", e.Message);
            return await subscriber.Attach(attempt);
        }
    }

    private async Task CompleteAttachAsync(AttachResponse response, SocketAddress from)
    {
        if (!_pool.TryAllocate(out var address))
        {
            SendTo(from, new AttachReject(response.HandsetNonce, KeyProxyReason.Overloaded, "no free handset address at this edge").ToArray());
            return;
        }
        uint tunnelId = NewTunnelId();
        var attempt = new AttachAttempt(EdgeId, response.HandsetNonce.ToArray(), response.EdgeNonce.ToArray(), response.Proof.ToArray(),
            tunnelId, address.ToString(), _silo.SiloAddress);
        AttachOutcome outcome;
        using (Metrics.GrainCall(nameof(ISubscriberSessionGrain.Attach)))
        {
            try { outcome = await AttachOnceMoreIfStaleAsync(response.Identity.Value, attempt); }
            catch
            {
                _pool.Release(address);
                SendTo(from, new AttachReject(response.HandsetNonce, KeyProxyReason.Internal, "the network could not complete the attach").ToArray());
                throw;
            }
        }
        if (!outcome.Accepted)
        {
            _pool.Release(address);
            SendTo(from, new AttachReject(response.HandsetNonce, (KeyProxyReason)outcome.Reason, outcome.Text).ToArray());
            return;
        }

        // A handset attaching again (new nonces, perhaps a new port) replaces its old tunnel here.
        if (_byNai.TryGetValue(response.Identity.Value, out var old))
        {
            await CloseLeftoverSessionsAsync(old);
            Remove(old);
        }
        HandsetLink link;
        try
        {
            link = new HandsetLink(response.Identity.Value, tunnelId, address, from, EdgeProfile.From(outcome.Profile!),
                _network.HandsetIkePort, _network.HandsetNatTPort, bindSockets: _tun is null)
            {
                ProxyRequestBucket = new TokenBucket(_options.ProxyRequestsPerSecond, _options.ProxyRequestBurst,
                    Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency),
                EspSuites = [.. response.Suites.Select(s => new HandsetEspSuite((ushort)s.Encryption, s.KeyBits, (ushort)s.Integrity, s.Esn == KeyProxy.Primitives.EsnMode.Esn))],
            };
        }
        catch (SocketException e)
        {
            _pool.Release(address);
            LogBindFailed(address.ToString(), e.Message);
            await _grains.GetGrain<ISubscriberSessionGrain>(response.Identity.Value).Detached(EdgeId, tunnelId);
            SendTo(from, new AttachReject(response.HandsetNonce, KeyProxyReason.Internal, $"cannot bind {address} on the network side").ToArray());
            return;
        }
        _tunnels[tunnelId] = link;
        _byAddress[address] = link;
        _byNai[link.Nai] = link;
        _byPoolAddress[link.AddressValue] = link;
        if (_tun is null)
        {
            // The handset's two loops end with its link (its Stop token and sockets), not with the gateway's list.
            _ = Task.Run(() => NetworkLoopAsync(link, natTraversal: false));
            _ = Task.Run(() => NetworkLoopAsync(link, natTraversal: true));
        }
        SendToHandset(link, new AttachAccept(address, outcome.NetworkProof) { TunnelId = tunnelId }.ToArray());
        LogAttached(link.Nai, address.ToString(), tunnelId);
    }

    private async Task DetachAsync(HandsetLink link, Detach detach)
    {
        bool ok;
        using (Metrics.GrainCall(nameof(ISubscriberSessionGrain.Detach)))
            ok = await _grains.GetGrain<ISubscriberSessionGrain>(link.Nai).Detach(EdgeId, link.TunnelId, detach.Proof.ToArray());
        if (!ok)
        {
            Metrics.Drop(EdgeDropReason.Malformed);
            return;
        }
        await CloseLeftoverSessionsAsync(link);
        // The tunnel goes before the acknowledgement, so a handset that saw DetachAck is no longer listed.
        Remove(link);
        SendToHandset(link, new DetachAck { TunnelId = link.TunnelId }.ToArray());
        LogDetached(link.Nai, link.TunnelId);
    }

    /// <summary>
    /// Issue 8, no SA on one side only: proxy sessions that still route IKE on the handset's address once its subscriber
    /// closed the ones it knew (a subscriber reactivated after its silo died lost its list) are closed here, while the
    /// handset's sockets are still bound, so that their DELETEs reach the peers. Bounded: a stuck session ends by its lease.
    /// </summary>
    private async Task CloseLeftoverSessionsAsync(HandsetLink link)
    {
        var left = _routes.SessionsOf(link.AddressValue);
        if (left.Count == 0) return;
        var closing = new List<Task>(left.Count);
        foreach (var session in left) closing.Add(_grains.Reference<IProxySessionGrain>(session).Close("the handset detached (closed by its edge)"));
        try { await Task.WhenAll(closing).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception e) when (e is not OutOfMemoryException) { LogGrainCallFailed("Close", e.Message); }
        LogLeftoverSessions(link.Nai, left.Count);
    }

    private void SendToHandset(HandsetLink link, ReadOnlySpan<byte> datagram) => SendTo(link.AccessEndpoint, datagram);

    private void SendTo(SocketAddress to, ReadOnlySpan<byte> datagram)
    {
        try { _access!.SendTo(datagram, SocketFlags.None, to); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { Metrics.Drop(EdgeDropReason.SendFailed); }
    }

    private static SocketAddress Copy(SocketAddress address)
    {
        var copy = new SocketAddress(address.Family, address.Size);
        address.Buffer.Span.CopyTo(copy.Buffer.Span);
        return copy;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Handset {Nai} attached as {Address} (tunnel {TunnelId})")]
    private partial void LogAttached(string nai, string address, uint tunnelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handset {Nai} detached (tunnel {TunnelId})")]
    private partial void LogDetached(string nai, uint tunnelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Handset {Nai}: {Count} proxy sessions its subscriber did not know of closed at detach")]
    private partial void LogLeftoverSessions(string nai, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy request of {Nai} towards {Peer} refused: {Reason}")]
    private partial void LogRefused(string nai, string peer, KeyProxyReason reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Cannot bind handset address {Address}: {Error}")]
    private partial void LogBindFailed(string address, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Access datagram failed: {Error}")]
    private partial void LogAccessError(string error);
}
