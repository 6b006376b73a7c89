using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Peers;

/// <summary>
/// A load peer that starts IKE: initiators of our own engine on one address, many IKE SAs at once (one
/// <see cref="IkeSession"/> per own initiator SPI, which every answer carries first, RFC 7296 3.1), on an
/// IKE port and a NAT-T port. On the NAT-T port IKE carries the non-ESP marker and anything else is ESP
/// in UDP (RFC 3948 2.2), counted and, with <see cref="Echo"/>, echoed.
/// </summary>
public sealed class IkeInitiatorHost : IAsyncDisposable
{
    private readonly Socket _ike;
    private readonly Socket _natT;
    private readonly IkeSessionConfig _config;
    private readonly IkeServices _services;
    private readonly ConcurrentDictionary<ulong, Entry> _sessions = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private long _established, _childSas, _failed, _espPackets, _dropped;

    /// <summary>One IKE SA: its session and who waits for its first CHILD_SA (guarded by the entry).</summary>
    private sealed class Entry(IkeSession session, TaskCompletionSource<ChildSa> done)
    {
        public readonly IkeSession Session = session;
        public readonly TaskCompletionSource<ChildSa> Done = done;
    }

    /// <param name="config">
    /// The initiators' configuration; its <see cref="IkeSessionConfig.LocalEndpoint"/> and
    /// <see cref="IkeSessionConfig.LocalNatTraversalPort"/> are bound, the remote endpoint, NAT-T port and
    /// remote selectors are given per <see cref="InitiateAsync"/>.
    /// </param>
    public IkeInitiatorHost(IkeSessionConfig config, IkeServices? services = null)
    {
        _config = config;
        _services = services ?? IkeServices.Default;
        _ike = Bind(config.LocalEndpoint);
        _natT = Bind(new IPEndPoint(config.LocalEndpoint.Address, config.LocalNatTraversalPort));
        _loops =
        [
            Task.Run(() => ReceiveLoop(_ike, natTraversal: false)),
            Task.Run(() => ReceiveLoop(_natT, natTraversal: true)),
            Task.Run(TimerLoop),
        ];
    }

    public IPAddress Address => _config.LocalEndpoint.Address;

    /// <summary>When set, the CHILD_SAs' ESP is decrypted and UDP inside it echoed back.</summary>
    public EspEcho? Echo { get; init; }

    /// <summary>IKE SAs established (IKE_AUTH done).</summary>
    public long Established => Interlocked.Read(ref _established);

    /// <summary>CHILD_SAs established.</summary>
    public long ChildSas => Interlocked.Read(ref _childSas);

    /// <summary>Initiations that ended without a CHILD_SA (closed: refused, timed out, failed authentication).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>ESP-in-UDP packets received on the NAT-T port.</summary>
    public long EspPackets => Interlocked.Read(ref _espPackets);

    /// <summary>Datagrams no session took.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>IKE SAs held now.</summary>
    public int Sessions => _sessions.Count;

    /// <summary>
    /// Starts an IKE SA towards <paramref name="remote"/> (its NAT-T port <paramref name="remoteNatTPort"/>) asking
    /// for a CHILD_SA to <paramref name="remoteSelectors"/>; completes with the CHILD_SA when IKE_AUTH is done,
    /// or faults with <see cref="IkeInitiationFailedException"/> when the IKE SA closes first.
    /// </summary>
    public Task<ChildSa> InitiateAsync(IPEndPoint remote, int remoteNatTPort, IReadOnlyList<TrafficSelector> remoteSelectors)
    {
        var config = _config with
        {
            RemoteEndpoint = remote,
            RemoteNatTraversalPort = remoteNatTPort,
            Child = _config.Child with { RemoteSelectors = remoteSelectors },
        };
        var session = IkeSession.CreateInitiator(config, _services);
        var entry = new Entry(session, new TaskCompletionSource<ChildSa>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (entry)
        {
            _sessions[session.InitiatorSpi] = entry;
            session.Start();
            Flush(session.InitiatorSpi, entry);
        }
        return entry.Done.Task;
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
            var datagram = buffer.AsSpan(0, received.ReceivedBytes);
            bool viaNatT = natTraversal;
            int skip = 0;
            if (datagram.Length > NonEspMarker.Length && datagram[..NonEspMarker.Length].IndexOfAnyExcept((byte)0) < 0)
            {
                skip = NonEspMarker.Length;
                viaNatT = true;
            }
            else if (natTraversal)
            {
                if (!NonEspMarker.IsNatKeepalive(datagram))
                {
                    Interlocked.Increment(ref _espPackets);
                    Echo?.Echo(datagram, socket, received.RemoteEndPoint);
                }
                continue;
            }
            Handle(datagram[skip..].ToArray(), viaNatT);
        }
    }

    private void Handle(byte[] ike, bool viaNatT)
    {
        if (ike.Length < IkeHeader.Size || !_sessions.TryGetValue(BinaryPrimitives.ReadUInt64BigEndian(ike), out var entry))
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        lock (entry)
        {
            entry.Session.HandleDatagram(ike, viaNatT);
            Flush(entry.Session.InitiatorSpi, entry);
        }
    }

    /// <summary>Sends the session's datagrams and acts on its events; under the entry's lock.</summary>
    private void Flush(ulong spiI, Entry entry)
    {
        foreach (var output in entry.Session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    Send(entry.Session.Config, d);
                    break;
                case IkeSaEstablished:
                    Interlocked.Increment(ref _established);
                    break;
                case ChildSaEstablished c:
                    Interlocked.Increment(ref _childSas);
                    Echo?.Add(c.ChildSa);
                    entry.Done.TrySetResult(c.ChildSa);
                    break;
                case ChildSaDeleted d:
                    Echo?.Remove(d.InboundSpi);
                    break;
                case IkeSaClosed closed:
                    _sessions.TryRemove(spiI, out _);
                    if (entry.Done.TrySetException(new IkeInitiationFailedException(closed.Reason, closed.Notify, closed.Detail)))
                        Interlocked.Increment(ref _failed);
                    break;
            }
        }
    }

    private void Send(IkeSessionConfig config, SendDatagram datagram)
    {
        var (socket, remote) = datagram.NatTraversal
            ? (_natT, new IPEndPoint(config.RemoteEndpoint.Address, config.RemoteNatTraversalPort))
            : (_ike, config.RemoteEndpoint);
        try
        {
            // RFC 3948 2.2: the marker on NAT-T, and on the IKE port when neither end uses 500 (strongSwan's rule).
            if (socket == _natT || remote.Port != 500 && _config.LocalEndpoint.Port != 500)
                socket.SendTo(NonEspMarker.Prepend(datagram.Data.Span), SocketFlags.None, remote);
            else socket.SendTo(datagram.Data.Span, SocketFlags.None, remote);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { Interlocked.Increment(ref _dropped); }
    }

    private async Task TimerLoop()
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await tick.WaitForNextTickAsync(_stop.Token))
            {
                var now = _services.Clock.UtcNow;
                foreach (var (spiI, entry) in _sessions)
                    lock (entry)
                    {
                        if (entry.Session.NextDeadline is { } due && due <= now)
                        {
                            entry.Session.HandleTimer();
                            Flush(spiI, entry);
                        }
                    }
            }
        }
        catch (OperationCanceledException) { }
    }

    private static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.ReceiveBufferSize = 4 * 1024 * 1024;
        socket.Bind(endpoint);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _ike.Dispose();
        _natT.Dispose();
        Echo?.Dispose();
        try { await Task.WhenAll(_loops); } catch (Exception) { /* the loops end on cancellation */ }
        foreach (var entry in _sessions.Values) entry.Done.TrySetCanceled();
        _stop.Dispose();
    }
}

/// <summary>An initiation of <see cref="IkeInitiatorHost"/> ended without a CHILD_SA.</summary>
public sealed class IkeInitiationFailedException(IkeCloseReason reason, NotifyType? notify, string? detail)
    : Exception($"IKE SA closed before a CHILD_SA: {reason}{(notify is { } n ? " " + n : "")}{(detail is null ? "" : ": " + detail)}")
{
    public IkeCloseReason Reason { get; } = reason;

    public NotifyType? Notify { get; } = notify;
}
