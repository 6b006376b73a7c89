using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Peers;

/// <summary>
/// What <see cref="ResponderPeers"/> and <see cref="InitiatorPeers"/> share: peers on addresses <c>BASE+1 .. BASE+N</c>
/// of a /24 local to this machine, in 127.0.0.0/8 (any 127.x binds without set-up) or, for an edge on the TUN packet
/// path, outside it (an AnyIP range such as <c>ip route add local 198.18.0.0/15 dev lo</c>), named
/// <c>peer-i.load.keyproxy.test</c> and authenticating with the load PSK (RFC 7296 2.15).
/// </summary>
internal static class LoopbackPeers
{
    /// <summary>Starts one host per address; when one fails, those started are disposed and the error thrown.</summary>
    /// <param name="count">Peers (1 to 254).</param>
    /// <param name="network">An IPv4 /24, local to this machine, whose .1 .. .count the peers take.</param>
    public static THost[] Start<THost>(int count, IPAddress network, Func<int, IPAddress, THost> start) where THost : class, IAsyncDisposable
    {
        if (count is < 1 or > 254) throw new ArgumentOutOfRangeException(nameof(count), "1 to 254 peers");
        var bytes = network.GetAddressBytes();
        if (network.AddressFamily != AddressFamily.InterNetwork)
            throw new ArgumentException("the peers' network must be IPv4", nameof(network));
        var hosts = new THost[count];
        try
        {
            for (int i = 0; i < count; i++)
                hosts[i] = start(i, new IPAddress([bytes[0], bytes[1], bytes[2], (byte)(i + 1)]));
        }
        catch
        {
            foreach (var h in hosts) h?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
        return hosts;
    }

    /// <summary>Peer <paramref name="index"/>'s configuration on <paramref name="address"/>: its identity, the load PSK both ways, the ports.</summary>
    public static IkeSessionConfig Config(int index, IPAddress address, int ikePort, int natTPort, IReadOnlyList<IkeSuite> ikeProposals, ChildSaConfig child)
    {
        var key = Encoding.UTF8.GetBytes(ResponderPeers.Psk);
        return new IkeSessionConfig
        {
            LocalIdentity = IkeIdentity.Fqdn($"peer-{index + 1}.load.keyproxy.test"),
            LocalCredential = new PreSharedKeyCredential(key),
            PeerAuthentication = PeerAuthentication.WithPreSharedKey(key),
            IkeProposals = ikeProposals,
            Child = child,
            LocalEndpoint = new IPEndPoint(address, ikePort),
            RemoteEndpoint = new IPEndPoint(IPAddress.Loopback, 500),
            LocalNatTraversalPort = natTPort,
            // The peers run ESP on UDP sockets only: fake a NAT (RFC 7296 2.23) so that a proxy whose edge could carry
            // plain ESP (the TUN packet path) encapsulates too.
            ForceUdpEncapsulation = true,
        };
    }

    /// <summary>The sum of a counter over the hosts.</summary>
    public static long Sum<THost>(THost[] hosts, Func<THost, long> counter)
    {
        long n = 0;
        foreach (var h in hosts) n += counter(h);
        return n;
    }

    public static async ValueTask DisposeAllAsync<THost>(THost[] hosts) where THost : IAsyncDisposable
    {
        foreach (var h in hosts) await h.DisposeAsync();
    }
}
