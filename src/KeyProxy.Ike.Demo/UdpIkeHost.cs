using System.Net;
using System.Net.Sockets;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Ike.Demo;

/// <summary>
/// Runs one IKE SA of the sans-IO engine on two real UDP sockets: the IKE port and the NAT-T port
/// (RFC 3948 2.2: IKE there carries the non-ESP marker). As responder it creates the session when an
/// IKE_SA_INIT request arrives, and a fresh one after a refused IKE_SA_INIT (RFC 7296 1.2 keeps no state).
/// </summary>
public sealed class UdpIkeHost : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Socket _ike;
    private readonly Socket _natT;
    private readonly IkeSessionConfig _config;
    private readonly IkeServices _services;
    private readonly bool _initiator;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<IkeEvent> _events = [];
    private readonly SemaphoreSlim _wake = new(0);
    private readonly List<Task> _loops = [];
    private IkeSession? _session;

    /// <summary>
    /// Where the peer last reached us from, and on which of our sockets (RFC 7296 2.11: answer and send
    /// there). Only the initiator moves the path to the NAT-T ports (RFC 7296 2.23); a responder follows.
    /// </summary>
    private Socket? _pathSocket;
    private IPEndPoint? _pathRemote;

    private UdpIkeHost(IkeSessionConfig config, IkeServices services, bool initiator)
    {
        _config = config;
        _services = services;
        _initiator = initiator;
        _ike = Bind(new IPEndPoint(config.LocalEndpoint.Address, config.LocalEndpoint.Port));
        _natT = Bind(new IPEndPoint(config.LocalEndpoint.Address, config.LocalNatTraversalPort));
    }

    /// <summary>Binds the sockets and starts the initiator's IKE_SA_INIT.</summary>
    public static UdpIkeHost StartInitiator(IkeSessionConfig config, IkeServices? services = null)
    {
        var host = new UdpIkeHost(config, services ?? IkeServices.Default, initiator: true);
        host.Run();
        host.Command(s => s.Start());
        return host;
    }

    /// <summary>Binds the sockets and waits for a peer's IKE_SA_INIT.</summary>
    public static UdpIkeHost StartResponder(IkeSessionConfig config, IkeServices? services = null)
    {
        var host = new UdpIkeHost(config, services ?? IkeServices.Default, initiator: false);
        host.Run();
        return host;
    }

    /// <summary>Raised (on a socket thread) for every event, in order.</summary>
    public event Action<IkeEvent>? EventRaised;

    /// <summary>
    /// ESP in UDP (RFC 3948) that arrived on the NAT-T socket, with its source; raised on the
    /// receive loop. Without a handler such datagrams are counted as dropped.
    /// </summary>
    public event Action<ReadOnlyMemory<byte>, IPEndPoint>? EspReceived;

    /// <summary>
    /// Sends an ESP packet (RFC 3948 UDP encapsulation: no marker) from the NAT-T socket to the
    /// peer's current NAT-T path, where the IKE SA's NAT-T traffic goes.
    /// </summary>
    public void SendEsp(ReadOnlySpan<byte> espPacket)
    {
        IPEndPoint remote;
        lock (_gate)
        {
            remote = _pathSocket == _natT && _pathRemote is not null
                ? _pathRemote
                : new IPEndPoint(_config.RemoteEndpoint.Address, _session?.Config.RemoteNatTraversalPort ?? _config.RemoteNatTraversalPort);
        }
        _natT.SendTo(espPacket, SocketFlags.None, remote);
    }

    /// <summary>The current session (null for a responder that has seen no IKE_SA_INIT).</summary>
    public IkeSession? Session { get { lock (_gate) return _session; } }

    public IReadOnlyList<IkeEvent> Events { get { lock (_gate) return _events.ToArray(); } }

    private int _dropped;

    public int DroppedDatagrams => Volatile.Read(ref _dropped);

    /// <summary>Runs a command on the session (CreateChildSa, RekeyChildSa, Delete...) and sends what it produced.</summary>
    public void Command(Action<IkeSession> command)
    {
        lock (_gate)
        {
            if (_session is null && _initiator) _session = IkeSession.CreateInitiator(_config, _services);
            if (_session is null) throw new InvalidOperationException("no IKE SA yet");
            command(_session);
            Flush();
        }
    }

    /// <summary>Waits for the first event of type T (already seen or still to come) that matches.</summary>
    public async Task<T> WaitForAsync<T>(Func<T, bool>? match = null, TimeSpan? timeout = null) where T : IkeEvent
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (true)
        {
            lock (_gate)
                foreach (var e in _events)
                    if (e is T t && (match is null || match(t))) return t;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"no {typeof(T).Name} within the timeout; events: {string.Join(", ", Events)}");
            await Task.Delay(20);
        }
    }

    private void Run()
    {
        _loops.Add(Task.Run(() => ReceiveLoop(_ike, natTraversal: false)));
        _loops.Add(Task.Run(() => ReceiveLoop(_natT, natTraversal: true)));
        _loops.Add(Task.Run(TimerLoop));
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
            catch (SocketException) { continue; }
            var datagram = buffer.AsMemory(0, received.ReceivedBytes).ToArray();
            ReadOnlyMemory<byte> ike = datagram;
            var viaNatT = natTraversal;
            // A peer whose IKE port is not 500 may float only its own port and keep sending to ours with the
            // marker (strongSwan does): four zero bytes cannot start an IKE header with a random SPIi.
            if (!natTraversal && datagram.Length > IkeHeader.Size + NonEspMarker.Length && NonEspMarker.TryStrip(datagram, out var stripped))
            {
                ike = stripped;
                viaNatT = true;
            }
            if (natTraversal && !NonEspMarker.TryStrip(datagram, out ike))
            {
                // RFC 3948 2.2: not IKE, so ESP (a 1-byte 0xFF is a NAT-keepalive): the data plane's, if there is one.
                var esp = EspReceived;
                if (esp is not null && datagram.Length > 1) esp(datagram, (IPEndPoint)received.RemoteEndPoint);
                else Interlocked.Increment(ref _dropped);
                continue;
            }
            lock (_gate)
            {
                var session = _session;
                if (!_initiator && (session is null || session.State == IkeSessionState.Closed)
                    && CookieChallenge.IsIkeSaInitRequest(ike.Span, out _))
                {
                    var from = (IPEndPoint)received.RemoteEndPoint;
                    session = _session = IkeSession.CreateResponder(_config with { RemoteEndpoint = new IPEndPoint(from.Address, natTraversal ? _config.RemoteEndpoint.Port : from.Port) }, _services);
                }
                if (session is null) { Interlocked.Increment(ref _dropped); continue; }
                session.HandleDatagram(ike, viaNatT);
                if (Flush()) (_pathSocket, _pathRemote) = (socket, (IPEndPoint)received.RemoteEndPoint);
            }
            _wake.Release();
        }
    }

    private async Task TimerLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            DateTimeOffset? due;
            lock (_gate) due = _session?.NextDeadline;
            var wait = due is null ? TimeSpan.FromMilliseconds(500) : due.Value - _services.Clock.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                try { await _wake.WaitAsync(wait < TimeSpan.FromSeconds(1) ? wait : TimeSpan.FromSeconds(1), _stop.Token); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            lock (_gate)
            {
                _session?.HandleTimer();
                Flush();
            }
        }
    }

    /// <summary>
    /// Sends the session's datagrams and records its events. Called under the lock. Returns false when
    /// the session dropped the input it was just given (so its source must not become the path).
    /// </summary>
    private bool Flush()
    {
        if (_session is null) return false;
        var accepted = true;
        foreach (var output in _session.TakeOutputs())
        {
            switch (output)
            {
                case SendDatagram d:
                    Send(d);
                    break;
                case IkeMessageDropped e:
                    accepted = false;
                    _events.Add(e);
                    EventRaised?.Invoke(e);
                    break;
                case IkeEvent e:
                    _events.Add(e);
                    EventRaised?.Invoke(e);
                    break;
            }
        }
        return accepted;
    }

    private void Send(SendDatagram datagram)
    {
        var config = _session!.Config;
        Socket socket;
        IPEndPoint remote;
        if (_pathRemote is null || (datagram.NatTraversal && _initiator && _pathSocket != _natT))
        {
            (socket, remote) = datagram.NatTraversal
                ? (_natT, new IPEndPoint(config.RemoteEndpoint.Address, config.RemoteNatTraversalPort))
                : (_ike, config.RemoteEndpoint);
        }
        else (socket, remote) = (_pathSocket!, _pathRemote);

        // RFC 3948 2.2: the marker on the NAT-T port. strongSwan off port 500 expects it on every IKE
        // message, its IKE port included, so it goes on whenever the peer's port is not 500.
        if (socket == _natT || remote.Port != 500) socket.SendTo(NonEspMarker.Prepend(datagram.Data.Span), remote);
        else socket.SendTo(datagram.Data.Span, SocketFlags.None, remote);
    }

    private static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(endpoint);
        return socket;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _ike.Dispose();
        _natT.Dispose();
        try { await Task.WhenAll(_loops); } catch (Exception) { /* loops end on cancellation */ }
        _stop.Dispose();
    }
}
