using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using KeyProxy.Primitives;

namespace KeyProxy.Handset.Cli;

/// <summary>
/// One <see cref="Handset"/> on a UDP socket towards an edge's access port: a receive loop, a
/// timer loop at the handset's deadlines, and the handset's outputs sent as they come. Packets
/// the handset delivers and its events are published on channels.
/// </summary>
public sealed class UdpHandsetHost : IAsyncDisposable
{
    private readonly Handset _handset;
    private readonly Socket _socket;
    private readonly IPEndPoint _edge;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Channel<HandsetEvent> _events = Channel.CreateUnbounded<HandsetEvent>();
    private readonly Channel<byte[]> _delivered = Channel.CreateUnbounded<byte[]>();
    private readonly List<Task> _loops = [];
    private readonly IClock _clock;
    private int _disposed;

    public UdpHandsetHost(HandsetConfig config, IPEndPoint edge, IPEndPoint? local = null, IClock? clock = null)
    {
        _clock = clock ?? SystemClock.Instance;
        _handset = new Handset(config, _clock);
        _edge = edge;
        _socket = new Socket(edge.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(local ?? new IPEndPoint(edge.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        _loops.Add(Task.Run(ReceiveLoop));
        _loops.Add(Task.Run(TimerLoop));
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Events in the order they happened (attach, requests, SAs, refusals...). Read it from one place only: each event is read once.</summary>
    public ChannelReader<HandsetEvent> Events => _events.Reader;

    /// <summary>IP packets the handset delivered to the application.</summary>
    public ChannelReader<byte[]> Delivered => _delivered.Reader;

    public HandsetState State { get { lock (_gate) return _handset.State; } }

    public IPAddress? Address { get { lock (_gate) return _handset.Address; } }

    public HandsetCounters Counters => _handset.Counters;

    public void Attach() => Run(h => h.Attach());

    public void Detach() => Run(h => h.Detach());

    /// <summary>Sends an application IP packet; returns what the handset did with it.</summary>
    public HandsetPacketResult Send(ReadOnlySpan<byte> packet)
    {
        var datagram = new byte[Handset.MaxDatagramLength(packet.Length)];
        HandsetPacketResult result;
        lock (_gate)
        {
            result = _handset.Send(packet, datagram);
            Flush();
        }
        if (result.Status == HandsetPacketStatus.Ok) _socket.SendTo(datagram.AsSpan(0, result.Length), SocketFlags.None, _edge);
        _wake.Release();
        return result;
    }

    /// <summary>Waits for the next event of type <typeparamref name="T"/>, reading (and so consuming) the others from <see cref="Events"/>.</summary>
    public async Task<T> WaitForAsync<T>(TimeSpan timeout, CancellationToken ct = default) where T : HandsetEvent
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        while (true)
        {
            var e = await _events.Reader.ReadAsync(cts.Token);
            if (e is T match) return match;
        }
    }

    private void Run(Action<Handset> action)
    {
        lock (_gate)
        {
            action(_handset);
            Flush();
        }
        _wake.Release();
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
            catch (SocketException) { continue; } // ICMP port unreachable from a previous send
            if (!received.RemoteEndPoint.Equals(_edge)) continue; // only the edge speaks on the access link
            lock (_gate)
            {
                var result = _handset.Receive(buffer.AsSpan(0, received.ReceivedBytes), delivered);
                if (result.Status == HandsetPacketStatus.Ok) _delivered.Writer.TryWrite(delivered.AsSpan(0, result.Length).ToArray());
                Flush();
            }
            _wake.Release();
        }
    }

    private async Task TimerLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            DateTimeOffset? due;
            lock (_gate) due = _handset.NextDeadline;
            var wait = due is null ? TimeSpan.FromSeconds(1) : due.Value - _clock.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                try { await _wake.WaitAsync(wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1), _stop.Token); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            lock (_gate)
            {
                _handset.HandleTimer();
                Flush();
            }
        }
    }

    /// <summary>Sends the handset's datagrams and publishes its events; under the lock.</summary>
    private void Flush()
    {
        foreach (var output in _handset.TakeOutputs())
        {
            switch (output)
            {
                case AccessDatagram d:
                    try { _socket.SendTo(d.Data, SocketFlags.None, _edge); }
                    catch (SocketException) { /* the handset retransmits what matters */ }
                    break;
                case HandsetEvent e:
                    _events.Writer.TryWrite(e);
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        _socket.Dispose();
        try { await Task.WhenAll(_loops); } catch (Exception) { /* loops end on cancellation */ }
        lock (_gate) _handset.Dispose();
        _events.Writer.TryComplete();
        _delivered.Writer.TryComplete();
        _stop.Dispose();
    }
}
