using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// Many IKE initiators of our own engine in this process, as handsets doing their own IKE would run it: each
/// <see cref="IkeSession"/> is one handset's IKE SA, on one of a few socket pairs (IKE port and NAT-T port on a
/// loopback address), found again by its initiator SPI in every answer (RFC 7296 2.6). IKE on the NAT-T port
/// carries the non-ESP marker (RFC 3948 2.2); so does IKE on the IKE port when neither side uses 500 (as
/// <see cref="Peers.IkeResponderHost"/> does). Retransmissions run off one timer loop.
/// </summary>
public sealed class EngineInitiators : IAsyncDisposable
{
    private readonly (Socket Ike, Socket NatT)[] _pairs;
    private readonly IkeServices _services;
    private readonly ConcurrentDictionary<ulong, Entry> _sessions = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private long _dropped;

    private sealed class Entry(IkeSession session, int pair)
    {
        public readonly IkeSession Session = session;
        public readonly int Pair = pair;
        public readonly TaskCompletionSource<IkeEvent> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <param name="addresses">One socket pair per address.</param>
    public EngineInitiators(IReadOnlyList<IPAddress> addresses, int ikePort, int natTPort, IkeServices? services = null)
    {
        _services = services ?? IkeServices.Default;
        _pairs = new (Socket, Socket)[addresses.Count];
        try
        {
            for (int i = 0; i < addresses.Count; i++)
                _pairs[i] = (Bind(new IPEndPoint(addresses[i], ikePort)), Bind(new IPEndPoint(addresses[i], natTPort)));
        }
        catch
        {
            foreach (var (ike, natT) in _pairs) { ike?.Dispose(); natT?.Dispose(); }
            throw;
        }
        foreach (var (ike, natT) in _pairs)
        {
            _loops.Add(Task.Run(() => ReceiveLoop(ike, natTraversal: false)));
            _loops.Add(Task.Run(() => ReceiveLoop(natT, natTraversal: true)));
        }
        _loops.Add(Task.Run(TimerLoop));
    }

    public int Pairs => _pairs.Length;

    /// <summary>Datagrams no session took.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The IKE endpoint of pair <paramref name="pair"/> (a handset's own address and port).</summary>
    public IPEndPoint IkeEndPoint(int pair) => (IPEndPoint)_pairs[pair].Ike.LocalEndPoint!;

    /// <summary>
    /// Runs one IKE SA on pair <paramref name="pair"/>: <paramref name="config"/> with its local endpoints replaced by
    /// the pair's; completes with <see cref="ChildSaEstablished"/> (IKE_AUTH's CHILD_SA), or the
    /// <see cref="IkeSaClosed"/> / <see cref="ChildSaFailed"/> that ended it. The session is then forgotten.
    /// </summary>
    public async Task<IkeEvent> EstablishAsync(IkeSessionConfig config, int pair, CancellationToken ct)
    {
        var (ike, natT) = _pairs[pair];
        var local = (IPEndPoint)ike.LocalEndPoint!;
        var session = IkeSession.CreateInitiator(config with { LocalEndpoint = local, LocalNatTraversalPort = ((IPEndPoint)natT.LocalEndPoint!).Port }, _services);
        var entry = new Entry(session, pair);
        lock (entry)
        {
            session.Start();
            if (!_sessions.TryAdd(session.InitiatorSpi, entry)) return new IkeSaClosed(IkeCloseReason.Local, Detail: "initiator SPI collision");
            Flush(entry);
        }
        try { return await entry.Done.Task.WaitAsync(ct); }
        finally { _sessions.TryRemove(session.InitiatorSpi, out _); }
    }

    private async Task ReceiveLoop(Socket socket, bool natTraversal)
    {
        var buffer = new byte[65536];
        EndPoint any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try { received = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token); }
            catch (OperationCanceledException) { return; }
            catch (ObjectDisposedException) { return; }
            catch (SocketException) { continue; }
            int length = received.ReceivedBytes, skip = 0;
            bool viaNatT = natTraversal;
            if (length > NonEspMarker.Length && buffer.AsSpan(0, NonEspMarker.Length).IndexOfAnyExcept((byte)0) < 0)
            {
                skip = NonEspMarker.Length;
                viaNatT = true;
            }
            else if (natTraversal)
            {
                continue; // ESP in UDP or a keepalive: the baseline sends no data
            }
            if (length - skip < IkeHeader.Size || !_sessions.TryGetValue(BinaryPrimitives.ReadUInt64BigEndian(buffer.AsSpan(skip)), out var entry))
            {
                Interlocked.Increment(ref _dropped);
                continue;
            }
            var ike = buffer.AsSpan(skip, length - skip).ToArray();
            lock (entry)
            {
                entry.Session.HandleDatagram(ike, viaNatT);
                Flush(entry);
            }
        }
    }

    /// <summary>Sends what the session produced and completes the entry on its outcome; under the entry's lock.</summary>
    private void Flush(Entry entry)
    {
        foreach (var output in entry.Session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    Send(entry, d);
                    break;
                case ChildSaEstablished or IkeSaClosed or ChildSaFailed:
                    entry.Done.TrySetResult((IkeEvent)output);
                    break;
            }
        }
    }

    private void Send(Entry entry, SendDatagram datagram)
    {
        var (ike, natT) = _pairs[entry.Pair];
        var config = entry.Session.Config;
        try
        {
            if (datagram.NatTraversal)
                natT.SendTo(NonEspMarker.Prepend(datagram.Data.Span), SocketFlags.None, new IPEndPoint(config.RemoteEndpoint.Address, config.RemoteNatTraversalPort));
            else if (config.RemoteEndpoint.Port != 500 && config.LocalEndpoint.Port != 500)
                ike.SendTo(NonEspMarker.Prepend(datagram.Data.Span), SocketFlags.None, config.RemoteEndpoint);
            else ike.SendTo(datagram.Data.Span, SocketFlags.None, config.RemoteEndpoint);
        }
        catch (SocketException) { Interlocked.Increment(ref _dropped); }
        catch (ObjectDisposedException) { }
    }

    private async Task TimerLoop()
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await tick.WaitForNextTickAsync(_stop.Token))
            {
                var now = _services.Clock.UtcNow;
                foreach (var (_, entry) in _sessions)
                    lock (entry)
                    {
                        if (entry.Session.NextDeadline is { } due && due <= now)
                        {
                            entry.Session.HandleTimer();
                            Flush(entry);
                        }
                    }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp) { ReceiveBufferSize = 4 * 1024 * 1024 };
        socket.Bind(endpoint);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var (ike, natT) in _pairs) { ike.Dispose(); natT.Dispose(); }
        try { await Task.WhenAll(_loops); } catch (Exception) { /* the loops end on cancellation */ }
        foreach (var (_, entry) in _sessions) entry.Done.TrySetCanceled();
        _stop.Dispose();
    }
}
