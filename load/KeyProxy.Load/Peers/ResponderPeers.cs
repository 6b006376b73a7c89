using System.Net;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Peers;

/// <summary>
/// The default peers of the proxied scenarios: <see cref="IkeResponderHost"/>s on loopback addresses
/// <c>BASE+1 .. BASE+N</c> (any 127.x binds without set-up), authenticating with the load PSK, accepting
/// the subscribers' default proposals and any handset address as remote traffic selector.
/// </summary>
public sealed class ResponderPeers : IAsyncDisposable
{
    /// <summary>The PSK <see cref="Scenarios.AdminClient"/> provisions for peers in 127.0.0.0/8 and 198.18.0.0/15.</summary>
    public const string Psk = "keyproxy-load-psk";

    /// <summary>What the peers accept unless told otherwise.</summary>
    public static readonly IReadOnlyList<string> DefaultIkeProposals =
        ["aes128gcm16-prfsha256-x25519", "aes128gcm16-prfsha256-ecp256", "aes128gcm16-prfsha256-modp2048"];

    private readonly IkeResponderHost[] _hosts;

    /// <param name="count">Peers (1 to 254).</param>
    /// <param name="network">A local /24 whose .1 .. .count the peers take, e.g. 127.0.120.0 (or 198.18.136.0 for a TUN edge).</param>
    /// <param name="ikeProposals">The IKE proposals the peers accept (strongSwan notation); null: AES-GCM with x25519, ecp256 or modp2048.</param>
    /// <param name="echoEsp">Echo the UDP inside the peers' ESP back to the handsets (<see cref="EspEcho"/>).</param>
    public ResponderPeers(int count, IPAddress network, int ikePort, int natTPort, IReadOnlyList<string>? ikeProposals = null, bool echoEsp = false)
    {
        var proposals = new List<IkeSuite>();
        foreach (var p in ikeProposals ?? DefaultIkeProposals) proposals.Add(IkeSuiteNames.ParseIke(p));
        var child = new ChildSaConfig
        {
            Proposals = [SuiteNames.ParseEsp("aes128gcm16"), SuiteNames.ParseEsp("aes256gcm16")],
            // Loopback peers accept all of 127/8 as before; peers outside it (a TUN edge's, on an AnyIP range) their /24.
            LocalSelectors = [network.GetAddressBytes()[0] == 127
                ? TrafficSelectorNarrowing.ForPrefix(IPAddress.Parse("127.0.0.0"), 8)
                : TrafficSelectorNarrowing.ForPrefix(network, 24)],
            RemoteSelectors = [TrafficSelectorNarrowing.ForPrefix(IPAddress.Any, 0)],
        };
        _hosts = LoopbackPeers.Start(count, network, (i, address) =>
            new IkeResponderHost(LoopbackPeers.Config(i, address, ikePort, natTPort, proposals, child)) { Echo = echoEsp ? new EspEcho() : null });
    }

    public IReadOnlyList<IkeResponderHost> Hosts => _hosts;

    public long Established => LoopbackPeers.Sum(_hosts, h => h.Established);

    public long ChildSas => LoopbackPeers.Sum(_hosts, h => h.ChildSas);

    public long EspPackets => LoopbackPeers.Sum(_hosts, h => h.EspPackets);

    /// <summary>ESP packets echoed back (with <c>echoEsp</c>).</summary>
    public long EspEchoed => LoopbackPeers.Sum(_hosts, h => h.Echo?.Echoed ?? 0);

    public ValueTask DisposeAsync() => LoopbackPeers.DisposeAllAsync(_hosts);
}
