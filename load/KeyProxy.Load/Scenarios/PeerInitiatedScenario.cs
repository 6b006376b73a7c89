using System.Net;
using KeyProxy.Handset;
using KeyProxy.Ike.Protocol;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// What the <c>peer-initiated</c> scenario needs: the edge, the admin API, the fleet's shape, the initiator peers
/// (our own engine on <see cref="PeerNetwork"/>.1 .. .<see cref="Peers"/>, on the silo's
/// <c>KeyProxy:Network:PeerIkePort</c> / <c>PeerNatTPort</c>), and the ports the edge binds on every handset's
/// address (the silo's <c>KeyProxy:Network:HandsetIkePort</c> / <c>HandsetNatTPort</c>), which the peers initiate to.
/// </summary>
public sealed record PeerInitiatedOptions(IPEndPoint Edge, Uri Api, int Handsets, int Sockets, string NaiPrefix, int Peers, int PeerIkePort, int PeerNatTPort)
{
    public IPAddress PeerNetwork { get; init; } = IPAddress.Parse("127.0.130.0");

    public int HandsetIkePort { get; init; } = 500;

    public int HandsetNatTPort { get; init; } = 4500;

    public TimeSpan AttachTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>From the peer's IKE_SA_INIT to the SA in the handset and the peer's CHILD_SA; beyond it the step fails with "timeout".</summary>
    public TimeSpan SaTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int AttachParallelism { get; init; } = 32;

    public bool DetachAtEnd { get; init; } = true;
}

/// <summary>
/// <c>peer-initiated</c> (DESIGN flow 2, claim 3): init provisions N subscribers (both proxy roles), starts the
/// initiator peers and attaches the fleet (each handset learns its address from AttachAccept); invocation i makes
/// peer (i mod peers) start IKE towards handset i's address. The edge sees an IKE_SA_INIT for a proxied handset,
/// starts a responder proxy session, and the handset gets the SA by key transfer. The step <c>peer-initiated</c>
/// measures the peer's IKE_SA_INIT to both ends done: the SA installed in the handset and the peer's IKE_AUTH
/// done with its CHILD_SA; it fails unless the two are the halves of one SA (the handset's inbound SPI is the
/// peer's outbound one).
/// </summary>
public sealed class PeerInitiatedScenario : IAsyncDisposable
{
    private readonly PeerInitiatedOptions _options;
    private HandsetFleet? _fleet;
    private InitiatorPeers? _peers;

    public PeerInitiatedScenario(PeerInitiatedOptions options) => _options = options;

    public HandsetFleet? Fleet => _fleet;

    public InitiatorPeers? Peers => _peers;

    public int AttachFailures { get; private set; }

    /// <summary>SAs installed in the handsets when the load ended.</summary>
    public int InstalledAtEnd { get; private set; }

    public Scenario Build() => new("peer-initiated", [new Step("peer-initiated", InitiateOne) { Unit = "SAs" }])
    {
        Init = InitAsync,
        Clean = CleanAsync,
        MaxInvocations = _options.Handsets,
    };

    private async Task InitAsync(ScenarioInitContext context)
    {
        var ct = context.CancellationToken;
        _peers = new InitiatorPeers(_options.Peers, _options.PeerNetwork, _options.PeerIkePort, _options.PeerNatTPort);
        (_fleet, AttachFailures) = await ProxiedFleet.AttachAsync(_options.Api, _options.Edge, _options.Handsets, _options.Sockets, _options.NaiPrefix,
            null, _options.AttachTimeout, _options.AttachParallelism, ct);
    }

    private async Task<StepResult> InitiateOne(StepContext context)
    {
        int index = (int)context.InvocationNumber;
        var handset = _fleet!.Handsets[index];
        long before = handset.Bytes;
        if (handset.Address is not { } address) return StepResult.Fail("not attached", 0);
        var installed = handset.ExpectSaInstalled();
        var peer = _peers!.Hosts[index % _peers.Hosts.Count];
        var child = peer.InitiateAsync(new IPEndPoint(address, _options.HandsetIkePort), _options.HandsetNatTPort,
            [TrafficSelectorNarrowing.ForHost(address)]);
        try
        {
            await Task.WhenAll(installed, child).WaitAsync(_options.SaTimeout, context.CancellationToken);
        }
        catch (TimeoutException)
        {
            return StepResult.Fail(installed.IsCompleted ? "timeout (peer's IKE_AUTH)" : child.IsCompleted ? "timeout (no key transfer)" : "timeout",
                handset.Bytes - before);
        }
        catch (IkeInitiationFailedException e)
        {
            return StepResult.Fail($"peer: {e.Reason}{(e.Notify is { } n ? " " + n : "")}", handset.Bytes - before);
        }
        long bytes = handset.Bytes - before;
        return installed.Result.InboundSpi == child.Result.OutboundSpi && installed.Result.OutboundSpi == child.Result.InboundSpi
            ? StepResult.Ok(bytes)
            : StepResult.Fail("SPIs of handset and peer differ", bytes);
    }

    private async Task CleanAsync(CancellationToken ct)
    {
        InstalledAtEnd = _fleet?.InstalledSas ?? 0;
        if (_options.DetachAtEnd && _fleet is not null) await _fleet.DetachAllAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
        if (_peers is not null) await _peers.DisposeAsync();
    }
}
