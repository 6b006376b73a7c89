using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Peers;

/// <summary>
/// The peers of the <c>peer-initiated</c> scenario (DESIGN flow 2): <see cref="IkeInitiatorHost"/>s on loopback
/// addresses <c>BASE+1 .. BASE+N</c>, authenticating with the load PSK (<see cref="ResponderPeers.Psk"/>, which
/// <see cref="Scenarios.AdminClient"/> provisions), proposing the subscribers' default suites, and faking a NAT
/// (RFC 7296 2.23) as charon with kernel-libipsec does, so IKE moves to the NAT-T ports and ESP is in UDP.
/// </summary>
public sealed class InitiatorPeers : IAsyncDisposable
{
    private readonly IkeInitiatorHost[] _hosts;

    /// <param name="count">Peers (1 to 254).</param>
    /// <param name="network">A /24 in 127.0.0.0/8 whose .1 .. .count the peers take, e.g. 127.0.130.0.</param>
    /// <param name="ikeProposals">IKE suites in order of preference (default: AES-GCM-128, PRF SHA-256, x25519).</param>
    public InitiatorPeers(int count, IPAddress network, int ikePort, int natTPort, IReadOnlyList<IkeSuite>? ikeProposals = null)
    {
        if (count is < 1 or > 254) throw new ArgumentOutOfRangeException(nameof(count), "1 to 254 peers");
        var bytes = network.GetAddressBytes();
        if (network.AddressFamily != AddressFamily.InterNetwork || bytes[0] != 127)
            throw new ArgumentException("the peers' network must be in 127.0.0.0/8", nameof(network));
        var key = Encoding.UTF8.GetBytes(ResponderPeers.Psk);
        _hosts = new IkeInitiatorHost[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                var address = new IPAddress([bytes[0], bytes[1], bytes[2], (byte)(i + 1)]);
                _hosts[i] = new IkeInitiatorHost(new IkeSessionConfig
                {
                    LocalIdentity = IkeIdentity.Fqdn($"peer-{i + 1}.load.keyproxy.test"),
                    LocalCredential = new PreSharedKeyCredential(key),
                    PeerAuthentication = PeerAuthentication.WithPreSharedKey(key),
                    IkeProposals = ikeProposals ?? [SuiteNames.ParseIke("aes128gcm16-prfsha256-x25519")],
                    Child = new ChildSaConfig
                    {
                        Proposals = [SuiteNames.ParseEsp("aes128gcm16")],
                        LocalSelectors = [TrafficSelectorNarrowing.ForHost(address)],
                        RemoteSelectors = [TrafficSelectorNarrowing.ForPrefix(IPAddress.Any, 0)],
                    },
                    LocalEndpoint = new IPEndPoint(address, ikePort),
                    RemoteEndpoint = new IPEndPoint(IPAddress.Loopback, 500),
                    LocalNatTraversalPort = natTPort,
                    ForceUdpEncapsulation = true,
                });
            }
        }
        catch
        {
            foreach (var h in _hosts) h?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public IReadOnlyList<IkeInitiatorHost> Hosts => _hosts;

    public long Established { get { long n = 0; foreach (var h in _hosts) n += h.Established; return n; } }

    public long ChildSas { get { long n = 0; foreach (var h in _hosts) n += h.ChildSas; return n; } }

    public long Failed { get { long n = 0; foreach (var h in _hosts) n += h.Failed; return n; } }

    public async ValueTask DisposeAsync()
    {
        foreach (var h in _hosts) await h.DisposeAsync();
    }
}
