using System.Net;
using System.Net.Sockets;
using System.Text;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Load.Peers;

/// <summary>
/// The default peers of the proxied scenarios: <see cref="IkeResponderHost"/>s on loopback addresses
/// <c>BASE+1 .. BASE+N</c> (any 127.x binds without set-up), authenticating with the load PSK, accepting
/// the subscribers' default proposals and any handset address as remote traffic selector.
/// </summary>
public sealed class ResponderPeers : IAsyncDisposable
{
    /// <summary>The PSK <see cref="Scenarios.AdminClient"/> provisions for peers in 127.0.0.0/8.</summary>
    public const string Psk = "keyproxy-load-psk";

    /// <summary>What the peers accept unless told otherwise.</summary>
    public static readonly IReadOnlyList<string> DefaultIkeProposals =
        ["aes128gcm16-prfsha256-x25519", "aes128gcm16-prfsha256-ecp256", "aes128gcm16-prfsha256-modp2048"];

    private readonly IkeResponderHost[] _hosts;

    /// <param name="count">Peers (1 to 254).</param>
    /// <param name="network">A /24 in 127.0.0.0/8 whose .1 .. .count the peers take, e.g. 127.0.120.0.</param>
    /// <param name="ikeProposals">The IKE proposals the peers accept (strongSwan notation); null: AES-GCM with x25519, ecp256 or modp2048.</param>
    /// <param name="echoEsp">Echo the UDP inside the peers' ESP back to the handsets (<see cref="EspEcho"/>).</param>
    public ResponderPeers(int count, IPAddress network, int ikePort, int natTPort, IReadOnlyList<string>? ikeProposals = null, bool echoEsp = false)
    {
        if (count is < 1 or > 254) throw new ArgumentOutOfRangeException(nameof(count), "1 to 254 peers");
        var bytes = network.GetAddressBytes();
        if (network.AddressFamily != AddressFamily.InterNetwork || bytes[0] != 127)
            throw new ArgumentException("the peers' network must be in 127.0.0.0/8", nameof(network));
        var key = Encoding.UTF8.GetBytes(Psk);
        var proposals = new List<IkeSuite>();
        foreach (var p in ikeProposals ?? DefaultIkeProposals) proposals.Add(SuiteNames.ParseIke(p));
        _hosts = new IkeResponderHost[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                var address = new IPAddress([bytes[0], bytes[1], bytes[2], (byte)(i + 1)]);
                _hosts[i] = new IkeResponderHost(new IkeSessionConfig
                {
                    LocalIdentity = IkeIdentity.Fqdn($"peer-{i + 1}.load.keyproxy.test"),
                    LocalCredential = new PreSharedKeyCredential(key),
                    PeerAuthentication = PeerAuthentication.WithPreSharedKey(key),
                    IkeProposals = proposals,
                    Child = new ChildSaConfig
                    {
                        Proposals = [SuiteNames.ParseEsp("aes128gcm16"), SuiteNames.ParseEsp("aes256gcm16")],
                        LocalSelectors = [TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("127.0.0.0"), 8)],
                        RemoteSelectors = [TrafficSelectorNarrowing.ForPrefix(IPAddress.Any, 0)],
                    },
                    LocalEndpoint = new IPEndPoint(address, ikePort),
                    RemoteEndpoint = new IPEndPoint(IPAddress.Loopback, 500),
                    LocalNatTraversalPort = natTPort,
                }) { Echo = echoEsp ? new EspEcho() : null };
            }
        }
        catch
        {
            foreach (var h in _hosts) h?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            throw;
        }
    }

    public IReadOnlyList<IkeResponderHost> Hosts => _hosts;

    public long Established { get { long n = 0; foreach (var h in _hosts) n += h.Established; return n; } }

    public long ChildSas { get { long n = 0; foreach (var h in _hosts) n += h.ChildSas; return n; } }

    public long EspPackets { get { long n = 0; foreach (var h in _hosts) n += h.EspPackets; return n; } }

    /// <summary>ESP packets echoed back (with <c>echoEsp</c>).</summary>
    public long EspEchoed { get { long n = 0; foreach (var h in _hosts) n += h.Echo?.Echoed ?? 0; return n; } }

    public async ValueTask DisposeAsync()
    {
        foreach (var h in _hosts) await h.DisposeAsync();
    }
}
