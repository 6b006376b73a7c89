using KeyProxy.Abstractions;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge.Profiles;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge;

/// <summary>
/// One attached handset at this edge: its tunnel, its address and access endpoint, its profile
/// copy, and with the socket packet path the two network-side sockets bound on its address (IKE and NAT-T ports) while
/// it is attached (DESIGN, Network side). With the TUN packet path it holds no socket: it is an entry in the edge's table.
/// </summary>
internal sealed class HandsetLink : IDisposable
{
    private const int IpFreebind = 15, Ipv6Freebind = 78; // Linux IP_FREEBIND / IPV6_FREEBIND: bind a pool address not on an interface

    public HandsetLink(string nai, uint tunnelId, IPAddress address, SocketAddress accessEndpoint, EdgeProfile profile, int ikePort, int natTPort, bool bindSockets = true)
    {
        Nai = nai;
        TunnelId = tunnelId;
        Address = address;
        AddressValue = IpAddressValue.FromIPAddress(address);
        AccessEndpoint = accessEndpoint;
        Profile = profile;
        if (!bindSockets) return;
        IkeSocket = Bind(address, ikePort);
        try
        {
            NatTSocket = Bind(address, natTPort);
        }
        catch
        {
            IkeSocket.Dispose();
            throw;
        }
    }

    public string Nai { get; }

    public uint TunnelId { get; }

    public IPAddress Address { get; }

    public IpAddressValue AddressValue { get; }

    /// <summary>Where the handset's access datagrams come from (and where the edge sends to it).</summary>
    public SocketAddress AccessEndpoint { get; }

    public EdgeProfile Profile { get; set; }

    /// <summary>The socket on the handset's IKE port (socket packet path only).</summary>
    public Socket? IkeSocket { get; }

    /// <summary>The socket on the handset's NAT-T port (socket packet path only).</summary>
    public Socket? NatTSocket { get; }

    public CancellationTokenSource Stop { get; } = new();

    /// <summary>Limits this handset's proxy requests (set by the gateway from its options).</summary>
    public required Admission.TokenBucket ProxyRequestBucket { get; init; }

    /// <summary>The ESP suites the handset said at attach it can run (empty: not said).</summary>
    public IReadOnlyList<HandsetEspSuite> EspSuites { get; init; } = [];

    /// <summary>Proxy requests already handed to a session, by request id (the handset retries with the same id).</summary>
    public Dictionary<uint, Guid> Requests { get; } = [];

    /// <summary>
    /// The last session started towards each peer (either role; guarded by <see cref="Requests"/>): a new request
    /// towards that peer goes to it while its IKE SA lives, for a CHILD_SA on that IKE SA (RFC 7296 1.3.1).
    /// </summary>
    public Dictionary<IpAddressValue, Guid> SessionsByPeer { get; } = [];

    private int _disposed;
    private IpAddressValue _lastDestination;
    private ushort _lastPort;
    private SocketAddress? _lastAddress;

    /// <summary>The socket address for a destination, cached for the usual case of one peer (the access loop is its only caller).</summary>
    public SocketAddress Destination(IpAddressValue address, ushort port)
    {
        if (_lastAddress is null || address != _lastDestination || port != _lastPort)
        {
            _lastAddress = new IPEndPoint(address.ToIPAddress(), port).Serialize();
            (_lastDestination, _lastPort) = (address, port);
        }
        return _lastAddress;
    }

    private static Socket Bind(IPAddress address, int port)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            if (OperatingSystem.IsLinux())
            {
                if (address.AddressFamily == AddressFamily.InterNetwork) socket.SetRawSocketOption(0, IpFreebind, BitConverter.GetBytes(1));
                else socket.SetRawSocketOption(41, Ipv6Freebind, BitConverter.GetBytes(1));
            }
            socket.ReceiveBufferSize = 256 * 1024;
            socket.Bind(new IPEndPoint(address, port));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return; // stop, detach and host disposal may all get here
        Stop.Cancel();
        IkeSocket?.Dispose();
        NatTSocket?.Dispose();
        Stop.Dispose();
    }

    public override string ToString() => $"{Nai} tunnel {TunnelId} at {Address}";
}
