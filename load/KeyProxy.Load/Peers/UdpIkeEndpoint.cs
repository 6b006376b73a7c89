using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Peers;

/// <summary>Where an IKE datagram came in: the socket pair, whether on its NAT-T port, and the sender.</summary>
internal readonly record struct UdpIkePath(int Pair, bool NatTPort, IPEndPoint Remote);

/// <summary>What <see cref="UdpIkeEndpoint{TEntry}"/> keeps per IKE SA: at least its session (the entry is its lock).</summary>
internal interface IUdpIkeEntry
{
    IkeSession Session { get; }
}

/// <summary>
/// The UDP side shared by the hosts of many IKE SAs of our own engine: a socket pair (IKE port, NAT-T port) per
/// address, one receive loop per socket and one timer loop for all sessions. Every IKE message carries the
/// initiator's SPI first (RFC 7296 3.1), which finds its session in <see cref="Sessions"/>. On the NAT-T port IKE
/// carries the non-ESP marker and anything else is ESP in UDP (RFC 3948 2.2), counted and, with <see cref="Echo"/>,
/// echoed; the marker is also sent on the IKE port when neither end uses 500 (strongSwan's rule) and stripped
/// wherever it arrives. What a session does with its events stays with the host, through the callbacks of
/// <see cref="Start"/>.
/// </summary>
internal sealed class UdpIkeEndpoint<TEntry> : IAsyncDisposable where TEntry : class, IUdpIkeEntry
{
    /// <summary>
    /// The entry for a datagram whose initiator SPI no session has, or null to drop it (an initiator answers
    /// nothing it did not start; a responder opens a session on IKE_SA_INIT).
    /// </summary>
    public delegate TEntry? OpenSession(ulong spiI, ReadOnlySpan<byte> ike, UdpIkePath path);

    /// <summary>Acts on what the session produced after a datagram (with its path) or a timer (path null); under the entry's lock.</summary>
    public delegate void FlushSession(ulong spiI, TEntry entry, UdpIkePath? path);

    private readonly (Socket Ike, Socket NatT)[] _pairs;
    private readonly IkeServices _services;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private OpenSession? _open;
    private FlushSession? _flush;
    private long _espPackets, _dropped;

    /// <summary>Binds an IKE port and a NAT-T port on each of <paramref name="addresses"/>; <see cref="Start"/> starts receiving.</summary>
    public UdpIkeEndpoint(IReadOnlyList<IPAddress> addresses, int ikePort, int natTPort, IkeServices services)
    {
        _services = services;
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
    }

    /// <summary>The IKE SAs by initiator SPI.</summary>
    public ConcurrentDictionary<ulong, TEntry> Sessions { get; } = new();

    /// <summary>When set, the CHILD_SAs' ESP is decrypted and UDP inside it echoed back.</summary>
    public EspEcho? Echo { get; set; }

    public int Pairs => _pairs.Length;

    /// <summary>ESP-in-UDP packets received on the NAT-T ports.</summary>
    public long EspPackets => Interlocked.Read(ref _espPackets);

    /// <summary>Datagrams no session took, and datagrams that could not be sent.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>The IKE endpoint of pair <paramref name="pair"/>.</summary>
    public IPEndPoint IkeEndPoint(int pair) => (IPEndPoint)_pairs[pair].Ike.LocalEndPoint!;

    /// <summary>The NAT-T port of pair <paramref name="pair"/>.</summary>
    public int NatTPort(int pair) => ((IPEndPoint)_pairs[pair].NatT.LocalEndPoint!).Port;

    /// <summary>Starts the receive loops and the timer loop (once the host is ready for their callbacks).</summary>
    public void Start(OpenSession open, FlushSession flush)
    {
        (_open, _flush) = (open, flush);
        for (int i = 0; i < _pairs.Length; i++)
        {
            int pair = i;
            _loops.Add(Task.Run(() => ReceiveLoop(pair, natTraversal: false)));
            _loops.Add(Task.Run(() => ReceiveLoop(pair, natTraversal: true)));
        }
        _loops.Add(Task.Run(TimerLoop));
    }

    /// <summary>Sends <paramref name="datagram"/> to the remote of the session's <paramref name="config"/> from pair <paramref name="pair"/>.</summary>
    public void Send(int pair, IkeSessionConfig config, SendDatagram datagram) =>
        Send(datagram.NatTraversal
            ? new UdpIkePath(pair, NatTPort: true, new IPEndPoint(config.RemoteEndpoint.Address, config.RemoteNatTraversalPort))
            : new UdpIkePath(pair, NatTPort: false, config.RemoteEndpoint), datagram);

    /// <summary>Sends <paramref name="datagram"/> along <paramref name="path"/> (back where a request came from, RFC 7296 2.11).</summary>
    public void Send(UdpIkePath path, SendDatagram datagram)
    {
        var (ike, natT) = _pairs[path.Pair];
        var socket = path.NatTPort ? natT : ike;
        try
        {
            // RFC 3948 2.2: the marker on NAT-T, and on the IKE port when neither end uses 500 (strongSwan's rule).
            if (path.NatTPort || path.Remote.Port != 500 && ((IPEndPoint)ike.LocalEndPoint!).Port != 500)
                socket.SendTo(NonEspMarker.Prepend(datagram.Data.Span), SocketFlags.None, path.Remote);
            else socket.SendTo(datagram.Data.Span, SocketFlags.None, path.Remote);
        }
        catch (SocketException) { Interlocked.Increment(ref _dropped); }
        catch (ObjectDisposedException) { /* closing */ }
    }

    private async Task ReceiveLoop(int pair, bool natTraversal)
    {
        var socket = natTraversal ? _pairs[pair].NatT : _pairs[pair].Ike;
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
                // The marker: on NAT-T always, on the IKE port from a peer off port 500.
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
            Receive(datagram[skip..], new UdpIkePath(pair, natTraversal, (IPEndPoint)received.RemoteEndPoint), viaNatT);
        }
    }

    private void Receive(ReadOnlySpan<byte> ike, UdpIkePath path, bool viaNatT)
    {
        if (ike.Length < IkeHeader.Size)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        ulong spiI = BinaryPrimitives.ReadUInt64BigEndian(ike);
        if (!Sessions.TryGetValue(spiI, out var entry) && (entry = _open!(spiI, ike, path)) is null)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        var message = ike.ToArray();
        lock (entry)
        {
            entry.Session.HandleDatagram(message, viaNatT);
            _flush!(spiI, entry, path);
        }
    }

    private async Task TimerLoop()
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        try
        {
            while (await tick.WaitForNextTickAsync(_stop.Token))
            {
                var now = _services.Clock.UtcNow;
                foreach (var (spiI, entry) in Sessions)
                    lock (entry)
                    {
                        if (entry.Session.NextDeadline is { } due && due <= now)
                        {
                            entry.Session.HandleTimer();
                            _flush!(spiI, entry, null);
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

    /// <summary>Stops the loops and closes the sockets (and the echo); the sessions stay for the host to settle.</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        foreach (var (ike, natT) in _pairs) { ike.Dispose(); natT.Dispose(); }
        Echo?.Dispose();
        try { await Task.WhenAll(_loops); } catch (Exception) { /* the loops end on cancellation */ }
        _stop.Dispose();
    }
}
