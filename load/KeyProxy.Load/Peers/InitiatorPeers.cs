using System.Net;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

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
    /// <param name="echoEsp">Hold the CHILD_SAs' ESP SAs and echo the UDP inside their ESP (<see cref="EspEcho"/>).</param>
    public InitiatorPeers(int count, IPAddress network, int ikePort, int natTPort, IReadOnlyList<IkeSuite>? ikeProposals = null, bool echoEsp = false)
    {
        IReadOnlyList<IkeSuite> proposals = ikeProposals ?? [IkeSuiteNames.ParseIke("aes128gcm16-prfsha256-x25519")];
        _hosts = LoopbackPeers.Start(count, network, (i, address) =>
            new IkeInitiatorHost(LoopbackPeers.Config(i, address, ikePort, natTPort, proposals, new ChildSaConfig
            {
                Proposals = [SuiteNames.ParseEsp("aes128gcm16")],
                LocalSelectors = [TrafficSelectorNarrowing.ForHost(address)],
                RemoteSelectors = [TrafficSelectorNarrowing.ForPrefix(IPAddress.Any, 0)],
            }) with { ForceUdpEncapsulation = true }) { Echo = echoEsp ? new EspEcho() : null });
    }

    public IReadOnlyList<IkeInitiatorHost> Hosts => _hosts;

    public long Established => LoopbackPeers.Sum(_hosts, h => h.Established);

    public long ChildSas => LoopbackPeers.Sum(_hosts, h => h.ChildSas);

    public long Failed => LoopbackPeers.Sum(_hosts, h => h.Failed);

    public ValueTask DisposeAsync() => LoopbackPeers.DisposeAllAsync(_hosts);
}
