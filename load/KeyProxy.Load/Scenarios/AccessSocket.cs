using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Handset;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// One UDP socket towards the edge's access endpoint, shared by many simulated handsets
/// (docs/wire.md, "Access link": many handsets share a few sockets, told apart by tunnel id).
/// Datagrams with a tunnel id go to its handset; AttachChallenge and AttachReject (tunnel id 0)
/// go by the handset nonce they echo; an AttachAccept names a tunnel id the handset does not know
/// yet, so it is offered to the handsets awaiting an accept on this socket until one verifies its
/// network proof (the others ignore it).
/// </summary>
public sealed class AccessSocket : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IPEndPoint _edge;
    private readonly ConcurrentDictionary<uint, SimulatedHandset> _byTunnel = new();
    private readonly ConcurrentDictionary<UInt128, SimulatedHandset> _byNonce = new();
    private readonly ConcurrentDictionary<SimulatedHandset, byte> _awaitingAccept = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receive;
    private long _unmatched;

    public AccessSocket(IPEndPoint edge)
    {
        _edge = edge;
        _socket = new Socket(edge.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(edge.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        _receive = Task.Run(ReceiveLoop);
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Datagrams from the edge no handset on this socket took.</summary>
    public long Unmatched => Interlocked.Read(ref _unmatched);

    /// <summary>Sends the handset's queued datagrams and dispatches its events; under the handset's gate.</summary>
    internal void Flush(SimulatedHandset h)
    {
        foreach (var output in h.Handset.TakeOutputs())
        {
            switch (output)
            {
                case AccessDatagram d:
                    Track(h, d.Data);
                    h.CountBytes(d.Data.Length);
                    try { _socket.SendTo(d.Data, SocketFlags.None, _edge); }
                    catch (SocketException) { /* the handset retransmits */ }
                    break;
                case Attached a:
                    _awaitingAccept.TryRemove(h, out _);
                    Unbind(h);
                    _byTunnel[a.TunnelId] = h;
                    h.BoundTunnel = a.TunnelId;
                    h.OnEvent(a);
                    break;
                case Detached or AttachmentLost:
                    // The tunnel id stays routable until the detach is over: the edge's DetachAck carries it.
                    Unbind(h);
                    h.OnEvent((HandsetEvent)output);
                    break;
                case AttachFailed f:
                    _awaitingAccept.TryRemove(h, out _);
                    h.OnEvent(f);
                    break;
                case HandsetEvent e:
                    h.OnEvent(e);
                    break;
            }
        }
    }

    /// <summary>Sends a datagram the handset's data path produced (ESP or bypassed traffic); under the handset's gate.</summary>
    internal void SendData(SimulatedHandset h, ReadOnlySpan<byte> datagram)
    {
        h.CountBytes(datagram.Length);
        try { _socket.SendTo(datagram, SocketFlags.None, _edge); }
        catch (SocketException) { /* lost like any datagram */ }
    }

    private void Unbind(SimulatedHandset h)
    {
        if (h.BoundTunnel is { } tunnel) _byTunnel.TryRemove(new KeyValuePair<uint, SimulatedHandset>(tunnel, h));
        h.BoundTunnel = null;
    }

    /// <summary>Learns the demultiplexing keys from what the handset sends: its attach nonce, and that it awaits an accept.</summary>
    private void Track(SimulatedHandset h, byte[] datagram)
    {
        if (AccessHeader.TryRead(datagram, out var header) != WireError.None) return;
        switch (header.Type)
        {
            case AccessMessageType.AttachRequest when AccessMessage.TryParse(datagram, out var m) == WireError.None && m is AttachRequest r:
                if (h.AttachNonce is { } old) _byNonce.TryRemove(old, out _);
                h.AttachNonce = r.HandsetNonce.Value;
                _byNonce[r.HandsetNonce.Value] = h;
                break;
            case AccessMessageType.AttachResponse:
                _awaitingAccept[h] = 0;
                break;
        }
    }

    private async Task ReceiveLoop()
    {
        var buffer = new byte[65536];
        var delivered = new byte[65536];
        EndPoint any = new IPEndPoint(_edge.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try { received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            if (!received.RemoteEndPoint.Equals(_edge)) continue;
            Dispatch(buffer.AsSpan(0, received.ReceivedBytes), delivered);
        }
    }

    private void Dispatch(ReadOnlySpan<byte> datagram, Span<byte> delivered)
    {
        if (AccessHeader.TryRead(datagram, out var header) != WireError.None)
        {
            Interlocked.Increment(ref _unmatched);
            return;
        }
        if (header.Type == AccessMessageType.AttachAccept)
        {
            foreach (var candidate in _awaitingAccept.Keys)
                if (Deliver(candidate, datagram, delivered) == HandsetState.Attached) return;
            Interlocked.Increment(ref _unmatched);
            return;
        }
        SimulatedHandset? h = null;
        if (header.TunnelId != 0) _byTunnel.TryGetValue(header.TunnelId, out h);
        else if (datagram.Length >= AccessHeader.Size + Nonce16.Size)
            _byNonce.TryGetValue(Nonce16.Read(datagram[AccessHeader.Size..]).Value, out h); // challenge and reject echo the nonce first
        if (h is null)
        {
            Interlocked.Increment(ref _unmatched);
            return;
        }
        Deliver(h, datagram, delivered);
    }

    private HandsetState Deliver(SimulatedHandset h, ReadOnlySpan<byte> datagram, Span<byte> delivered)
    {
        lock (h.Gate)
        {
            var before = h.Handset.State;
            var result = h.Handset.Receive(datagram, delivered);
            h.CountBytes(datagram.Length);
            if (result.Status == HandsetPacketStatus.Ok) h.OnDelivered(delivered[..result.Length], datagram.Length);
            Flush(h);
            var after = h.Handset.State;
            if (before != after && after is HandsetState.Attached or HandsetState.Detached && h.AttachNonce is { } nonce)
            {
                _byNonce.TryRemove(nonce, out _);
                h.AttachNonce = null;
            }
            return after;
        }
    }

    /// <summary>Runs the handsets' retransmission timers that are due.</summary>
    internal void HandleTimers(IEnumerable<SimulatedHandset> handsets, DateTimeOffset now)
    {
        foreach (var h in handsets)
            lock (h.Gate)
            {
                if (!h.Retired && h.Handset.NextDeadline is { } due && due <= now)
                {
                    h.Handset.HandleTimer();
                    Flush(h);
                }
            }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _socket.Dispose();
        try { await _receive; } catch (Exception) { /* ends on cancellation */ }
        _stop.Dispose();
    }
}
