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
    private TaskCompletionSource<int>? _delivered;
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
    /// Sends one IP packet through an installed SA (ESP via the edge) and waits for the next packet the handset
    /// delivers (the peer's echo, decrypted): its length, or a timeout (<see cref="TimeoutException"/>). When
    /// the send does not leave as a datagram (no SA: held or dropped) its <see cref="HandsetPacketResult"/> is returned.
    /// </summary>
    public async Task<object> EchoAsync(ReadOnlyMemory<byte> packet, TimeSpan timeout, CancellationToken ct)
    {
        var done = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var datagram = new byte[KeyProxy.Handset.Handset.MaxDatagramLength(packet.Length)];
        lock (Gate)
        {
            var result = Handset.Send(packet.Span, datagram);
            if (result.Status != HandsetPacketStatus.Ok)
            {
                Socket.Flush(this);
                return result;
            }
            _delivered = done;
            Socket.SendData(this, datagram.AsSpan(0, result.Length));
        }
        return await done.Task.WaitAsync(timeout, ct);
    }

    /// <summary>Called under <see cref="Gate"/> for each packet the handset delivers to its application.</summary>
    internal void OnDelivered(ReadOnlySpan<byte> packet) => Interlocked.Exchange(ref _delivered, null)?.TrySetResult(packet.Length);

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

    /// <summary>Called under <see cref="Gate"/> for each event the handset emits.</summary>
    internal void OnEvent(HandsetEvent e)
    {
        if (e is Attached or AttachFailed) Interlocked.Exchange(ref _attach, null)?.TrySetResult(e);
        else if (e is SaInstalled or ProxyRefused or ProxyRequestTimedOut) Interlocked.Exchange(ref _proxied, null)?.TrySetResult(e);
        if (e is SaInstalled installed) Interlocked.Exchange(ref _installed, null)?.TrySetResult(installed);
    }
}
