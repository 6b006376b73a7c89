using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Peers;

/// <summary>
/// A load peer: IKE responders of our own engine on one address, many IKE SAs at once (one
/// <see cref="IkeSession"/> per initiator SPI, RFC 7296 2.6), on an IKE port and a NAT-T port.
/// On the NAT-T port IKE carries the non-ESP marker and anything else is ESP in UDP (RFC 3948 2.2),
/// which is only counted. Answers go back where the request came from (RFC 7296 2.11).
/// </summary>
public sealed class IkeResponderHost : IAsyncDisposable
{
    private readonly Socket _ike;
    private readonly Socket _natT;
    private readonly IkeSessionConfig _config;
    private readonly IkeServices _services;
    private readonly ConcurrentDictionary<ulong, Entry> _sessions = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;
    private long _established, _childSas, _espPackets, _dropped;

    /// <summary>One IKE SA: its session and where its initiator last reached us (guarded by the entry).</summary>
    private sealed class Entry(IkeSession session)
    {
        public readonly IkeSession Session = session;
        public Socket? PathSocket;
        public IPEndPoint? PathRemote;
    }

    /// <param name="config">
    /// The responders' configuration; its <see cref="IkeSessionConfig.LocalEndpoint"/> and
    /// <see cref="IkeSessionConfig.LocalNatTraversalPort"/> are bound, its remote endpoint is replaced per initiator.
    /// </param>
    public IkeResponderHost(IkeSessionConfig config, IkeServices? services = null)
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

    /// <summary>IKE SAs established (IKE_AUTH done).</summary>
    public long Established => Interlocked.Read(ref _established);

    /// <summary>CHILD_SAs established (with IKE_AUTH or CREATE_CHILD_SA).</summary>
    public long ChildSas => Interlocked.Read(ref _childSas);

    /// <summary>ESP-in-UDP packets received on the NAT-T port (counted, not decrypted).</summary>
    public long EspPackets => Interlocked.Read(ref _espPackets);

    /// <summary>When set, the CHILD_SAs' ESP is decrypted and UDP inside it echoed back (the <c>esp-echo</c> scenario).</summary>
    public EspEcho? Echo { get; init; }

    /// <summary>Datagrams no session took.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>IKE SAs held now.</summary>
    public int Sessions => _sessions.Count;

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
                // The marker: on NAT-T always, on the IKE port from a peer off port 500 (see UdpIkeHost).
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
            Handle(socket, (IPEndPoint)received.RemoteEndPoint, datagram[skip..].ToArray(), viaNatT);
        }
    }

    private void Handle(Socket socket, IPEndPoint from, byte[] ike, bool viaNatT)
    {
        if (ike.Length < IkeHeader.Size)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        ulong spiI = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(ike);
        if (!_sessions.TryGetValue(spiI, out var entry))
        {
            if (!CookieChallenge.IsIkeSaInitRequest(ike, out _))
            {
                Interlocked.Increment(ref _dropped);
                return;
            }
            var config = _config with { RemoteEndpoint = from };
            entry = _sessions.GetOrAdd(spiI, _ => new Entry(IkeSession.CreateResponder(config, _services)));
        }
        lock (entry)
        {
            entry.Session.HandleDatagram(ike, viaNatT);
            if (Flush(spiI, entry, socket, from)) (entry.PathSocket, entry.PathRemote) = (socket, from);
        }
    }

    /// <summary>Sends the session's datagrams and counts its events; under the entry's lock. False when it dropped its input.</summary>
    private bool Flush(ulong spiI, Entry entry, Socket? socket = null, IPEndPoint? from = null)
    {
        bool accepted = true;
        foreach (var output in entry.Session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    Send(entry, d, socket ?? entry.PathSocket, from ?? entry.PathRemote);
                    break;
                case IkeMessageDropped:
                    accepted = false;
                    break;
                case IkeSaEstablished:
                    Interlocked.Increment(ref _established);
                    break;
                case ChildSaEstablished c:
                    Interlocked.Increment(ref _childSas);
                    Echo?.Add(c.ChildSa);
                    break;
                case ChildSaDeleted d:
                    Echo?.Remove(d.InboundSpi);
                    break;
                case IkeSaClosed:
                    _sessions.TryRemove(spiI, out _);
                    break;
            }
        }
        return accepted;
    }

    private void Send(Entry entry, SendDatagram datagram, Socket? socket, IPEndPoint? remote)
    {
        if (socket is null || remote is null)
        {
            var config = entry.Session.Config;
            (socket, remote) = datagram.NatTraversal
                ? (_natT, new IPEndPoint(config.RemoteEndpoint.Address, config.RemoteNatTraversalPort))
                : (_ike, config.RemoteEndpoint);
        }
        try
        {
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
        _stop.Dispose();
    }
}
