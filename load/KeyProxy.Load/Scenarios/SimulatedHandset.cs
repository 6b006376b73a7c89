using KeyProxy.Handset;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// One sans-IO <see cref="Handset"/> of many, sharing an <see cref="AccessSocket"/>. Calls into the
/// handset happen under <see cref="Gate"/>; <see cref="AttachAsync"/> completes on the handset's
/// Attached or AttachFailed event.
/// </summary>
public sealed class SimulatedHandset
{
    internal readonly Lock Gate = new();
    private TaskCompletionSource<HandsetEvent>? _attach;
    private TaskCompletionSource<HandsetEvent>? _proxied;
    private TaskCompletionSource<SaInstalled>? _installed;
    private TaskCompletionSource<Detached>? _detach;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, TaskCompletionSource<long>> _echoes = new();
    private long _echoTag;
    private long _bytes;

    internal SimulatedHandset(int index, Handset.Handset handset, AccessSocket socket)
    {
        Index = index;
        Handset = handset;
        Socket = socket;
    }

    public int Index { get; }

    internal Handset.Handset Handset { get; }

    /// <summary>The nonce of the attach in progress (the demultiplexing key until the tunnel id is known); under the gate.</summary>
    internal UInt128? AttachNonce { get; set; }

    internal AccessSocket Socket { get; }

    /// <summary>The tunnel id its socket routes to it (from Attached until Detached or AttachmentLost); under the gate.</summary>
    internal uint? BoundTunnel { get; set; }

    public HandsetState State { get { lock (Gate) return Handset.State; } }

    public uint TunnelId { get { lock (Gate) return Handset.TunnelId; } }

    /// <summary>The address the edge gave at attach (null while detached).</summary>
    public System.Net.IPAddress? Address { get { lock (Gate) return Handset.Address; } }

    /// <summary>SA pairs installed now.</summary>
    public int InstalledSas { get { lock (Gate) return Handset.InstalledInboundSpis.Count; } }

    /// <summary>Access-link bytes sent and received by this handset.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    internal void CountBytes(int n) => Interlocked.Add(ref _bytes, n);

    /// <summary>Starts an attach and waits for its outcome: <see cref="Attached"/>, <see cref="AttachFailed"/>, or a timeout (<see cref="TimeoutException"/>).</summary>
    public async Task<HandsetEvent> AttachAsync(TimeSpan timeout, CancellationToken ct)
    {
        var done = new TaskCompletionSource<HandsetEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            _attach = done;
            Handset.Attach();
            Socket.Flush(this);
        }
        return await done.Task.WaitAsync(timeout, ct);
    }

    /// <summary>
    /// Sends one IP packet the handset's SPD protects towards a peer it has no SA with (the packet is
    /// held and a key exchange proxy request goes out) and waits for the outcome: <see cref="SaInstalled"/>
    /// (the held packet then leaves as ESP), <see cref="ProxyRefused"/>, <see cref="ProxyRequestTimedOut"/>,
    /// or a timeout (<see cref="TimeoutException"/>). Any other result of the send is returned as is.
    /// </summary>
    public async Task<object> SendProtectedAsync(ReadOnlyMemory<byte> packet, TimeSpan timeout, CancellationToken ct)
    {
        var done = new TaskCompletionSource<HandsetEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        var datagram = new byte[KeyProxy.Handset.Handset.MaxDatagramLength(packet.Length)];
        lock (Gate)
        {
            _proxied = done;
            var result = Handset.Send(packet.Span, datagram);
            if (result.Status != HandsetPacketStatus.Held)
            {
                _proxied = null;
                if (result.Status == HandsetPacketStatus.Ok) Socket.SendData(this, datagram.AsSpan(0, result.Length));
                return result;
            }
            Socket.Flush(this);
        }
        return await done.Task.WaitAsync(timeout, ct);
    }

    /// <summary>
    /// Arms a wait for the next <see cref="SaInstalled"/>, e.g. an SA the network installs without a request of
    /// this handset (DESIGN flow 2: the peer initiated); arm it before the exchange can complete.
    /// </summary>
    public Task<SaInstalled> ExpectSaInstalled()
    {
        var done = new TaskCompletionSource<SaInstalled>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate) _installed = done;
        return done.Task;
    }

    /// <summary>
    /// Sends one UDP packet of <paramref name="payloadBytes"/> (at least 8: a tag goes first) to
    /// <paramref name="peer"/>:<paramref name="port"/> through an installed SA (ESP via the edge) and waits for
    /// the packet with the same tag to be delivered back (the peer's echo, decrypted). Returns the access-link
    /// bytes of the round trip (both datagrams) as a long, or a timeout (<see cref="TimeoutException"/>). When
    /// the packet does not leave as a datagram (no SA: held, or dropped) the send's <see cref="HandsetPacketResult"/>
    /// is returned. Several echoes of one handset may be in flight.
    /// </summary>
    public async Task<object> EchoAsync(System.Net.IPAddress peer, ushort port, int payloadBytes, TimeSpan timeout, CancellationToken ct)
    {
        var address = Address;
        if (address is null) return new HandsetPacketResult(HandsetPacketStatus.Dropped, 0, HandsetDropReason.NotAttached);
        ulong tag = (ulong)Interlocked.Increment(ref _echoTag);
        var payload = new byte[Math.Max(8, payloadBytes)];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(payload, tag);
        var packet = new byte[KeyProxy.Wire.Ip.UdpPacketWriter.HeaderSize(KeyProxy.Wire.Ip.IpFamily.V6) + payload.Length];
        if (KeyProxy.Wire.Ip.UdpPacketWriter.TryWrite(packet, KeyProxy.Wire.Ip.IpAddressValue.FromIPAddress(address), (ushort)(40000 + Index % 20000),
                KeyProxy.Wire.Ip.IpAddressValue.FromIPAddress(peer), port, payload, out int length) != KeyProxy.Wire.Ip.PacketError.None)
            return new HandsetPacketResult(HandsetPacketStatus.Dropped, 0, HandsetDropReason.Malformed);
        var done = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        var datagram = new byte[KeyProxy.Handset.Handset.MaxDatagramLength(length)];
        _echoes[tag] = done;
        try
        {
            HandsetPacketResult result;
            lock (Gate)
            {
                result = Handset.Send(packet.AsSpan(0, length), datagram);
                if (result.Status != HandsetPacketStatus.Ok) Socket.Flush(this);
                else Socket.SendData(this, datagram.AsSpan(0, result.Length));
            }
            if (result.Status != HandsetPacketStatus.Ok) return result;
            return result.Length + await done.Task.WaitAsync(timeout, ct);
        }
        finally
        {
            _echoes.TryRemove(tag, out _);
        }
    }

    /// <summary>Called under <see cref="Gate"/> for each packet the handset delivers: completes the echo its tag names.</summary>
    internal void OnDelivered(ReadOnlySpan<byte> packet, int datagramLength)
    {
        if (_echoes.IsEmpty || KeyProxy.Wire.Ip.IpPacket.TryRead(packet, out var ip) != KeyProxy.Wire.Ip.PacketError.None
            || KeyProxy.Wire.Ip.UdpDatagram.TryRead(ip, out var udp, verifyChecksum: false) != KeyProxy.Wire.Ip.PacketError.None
            || udp.Payload.Length < 8) return;
        if (_echoes.TryRemove(System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(udp.Payload), out var done)) done.TrySetResult(datagramLength);
    }

    /// <summary>Detaches (best effort: the edge's DetachAck is not awaited).</summary>
    public void Detach()
    {
        lock (Gate)
        {
            if (Handset.State != HandsetState.Attached) return;
            Handset.Detach();
            Socket.Flush(this);
        }
    }

    /// <summary>
    /// Detaches and waits for the handset's <see cref="Detached"/> (acknowledged by the edge, or given up after its
    /// retransmissions); a handset not attached returns at once with an unacknowledged one.
    /// </summary>
    public async Task<Detached> DetachAsync(TimeSpan timeout, CancellationToken ct)
    {
        var done = new TaskCompletionSource<Detached>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (Gate)
        {
            if (Handset.State != HandsetState.Attached) return new Detached(false);
            _detach = done;
            Handset.Detach();
            Socket.Flush(this);
        }
        return await done.Task.WaitAsync(timeout, ct);
    }

    /// <summary>
    /// This instance is no longer the subscriber's handset (it turned up elsewhere, e.g. at another edge): its
    /// timers stop, so its access-link liveness does not attach it again by itself. Under <see cref="Gate"/>.
    /// </summary>
    internal bool Retired { get; private set; }

    public void Retire()
    {
        lock (Gate) Retired = true;
    }

    /// <summary>This instance is the subscriber's handset again (it roamed back): its timers run again.</summary>
    public void Reinstate()
    {
        lock (Gate) Retired = false;
    }

    /// <summary>
    /// Sees every event the handset emits, under <see cref="Gate"/> (the chaos soak keeps its SA ledger with it); must
    /// not call back into the handset.
    /// </summary>
    public Action<SimulatedHandset, HandsetEvent>? Observer { get; set; }

    /// <summary>Called under <see cref="Gate"/> for each event the handset emits.</summary>
    internal void OnEvent(HandsetEvent e)
    {
        Observer?.Invoke(this, e);
        if (e is Attached or AttachFailed) Interlocked.Exchange(ref _attach, null)?.TrySetResult(e);
        else if (e is SaInstalled or ProxyRefused or ProxyRequestTimedOut) Interlocked.Exchange(ref _proxied, null)?.TrySetResult(e);
        if (e is SaInstalled installed) Interlocked.Exchange(ref _installed, null)?.TrySetResult(installed);
        if (e is Detached detached) Interlocked.Exchange(ref _detach, null)?.TrySetResult(detached);
    }
}
