using System.Net;
using System.Text;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Protocol;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// What <c>engine-sa</c> runs: N handsets doing their own IKE with our engine against the same responder peers
/// as <c>proxied-sa</c> (<see cref="PeerNetwork"/>.1 .. .<see cref="Peers"/> on the same ports), with the same
/// proposals (<see cref="DhGroup"/>).
/// </summary>
public sealed record EngineSaOptions(int Handsets, int Peers, int PeerIkePort, int PeerNatTPort, string DhGroup)
{
    public IPAddress PeerNetwork { get; init; } = IPAddress.Parse("127.0.120.0");

    /// <summary>The handsets' own addresses: the socket pairs take .1, .2, ... of this /24 in 127.0.0.0/8.</summary>
    public IPAddress HandsetNetwork { get; init; } = IPAddress.Parse("127.0.125.0");

    /// <summary>Socket pairs the handsets share (handset i uses pair i mod count).</summary>
    public int SocketPairs { get; init; } = 8;

    /// <summary>The handsets' IKE and NAT-T ports (0: any; 500/4500 as a real handset, which needs root).</summary>
    public int HandsetIkePort { get; init; }

    public int HandsetNatTPort { get; init; }

    /// <summary>The peers run elsewhere (e.g. a <c>keyproxy-load peers</c> child process): init starts none.</summary>
    public bool ExternalPeers { get; init; }

    /// <summary>From IKE_SA_INIT sent to the CHILD_SA; beyond it the step fails with "timeout".</summary>
    public TimeSpan SaTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// <c>engine-sa</c>, the "no proxy" baseline: each invocation is one handset running IKE itself with our engine,
/// in this process over real UDP sockets (<see cref="EngineInitiators"/>), against <see cref="ResponderPeers"/>:
/// the step <c>engine-sa</c> measures IKE_SA_INIT sent to the CHILD_SA established (IKE_AUTH answered). The
/// handset's side is what the proxy's ProxySessionGrain runs for it (same proposals, PSK, a faked NAT so IKE
/// moves to NAT-T and ESP would be UDP-encapsulated), so the load process's CPU per SA is a handset's cost.
/// </summary>
public sealed class EngineSaScenario : IAsyncDisposable
{
    private readonly EngineSaOptions _options;
    private ResponderPeers? _peers;
    private EngineInitiators? _initiators;
    private byte[] _psk = [];
    private IkeSuite[] _ike = [];

    public EngineSaScenario(EngineSaOptions options) => _options = options;

    public ResponderPeers? Peers => _peers;

    public EngineInitiators? Initiators => _initiators;

    public Scenario Build() => new("engine-sa", [new Step("engine-sa", EstablishOne) { Unit = "SAs" }])
    {
        Init = InitAsync,
        MaxInvocations = _options.Handsets,
    };

    private Task InitAsync(ScenarioInitContext context)
    {
        var proposal = DhGroupChoice.IkeProposal(_options.DhGroup);
        if (!_options.ExternalPeers) _peers = new ResponderPeers(_options.Peers, _options.PeerNetwork, _options.PeerIkePort, _options.PeerNatTPort, [proposal]);
        var b = _options.HandsetNetwork.GetAddressBytes();
        var addresses = new IPAddress[Math.Clamp(_options.SocketPairs, 1, 254)];
        for (int i = 0; i < addresses.Length; i++) addresses[i] = new IPAddress([b[0], b[1], b[2], (byte)(i + 1)]);
        _initiators = new EngineInitiators(addresses, _options.HandsetIkePort, _options.HandsetNatTPort);
        _psk = Encoding.UTF8.GetBytes(ResponderPeers.Psk);
        _ike = [IkeSuiteNames.ParseIke(proposal)];
        return Task.CompletedTask;
    }

    private IPAddress Peer(int index)
    {
        var b = _options.PeerNetwork.GetAddressBytes();
        return new IPAddress([b[0], b[1], b[2], (byte)(index % _options.Peers + 1)]);
    }

    /// <summary>Handset i's configuration: what a ProxySessionGrain would build from its profile.</summary>
    internal IkeSessionConfig Config(int index, IPEndPoint local)
    {
        var peer = Peer(index);
        return new IkeSessionConfig
        {
            LocalIdentity = IkeIdentity.Fqdn($"engine-{index:D6}.load.keyproxy.test"),
            LocalCredential = new PreSharedKeyCredential(_psk),
            PeerAuthentication = PeerAuthentication.WithPreSharedKey(_psk),
            IkeProposals = _ike,
            Child = new ChildSaConfig
            {
                Proposals = [SuiteNames.ParseEsp(DhGroupChoice.EspProposal)],
                LocalSelectors = [TrafficSelectorNarrowing.ForHost(local.Address)],
                RemoteSelectors = [TrafficSelectorNarrowing.ForPrefix(_options.PeerNetwork, 24)],
            },
            LocalEndpoint = local,
            RemoteEndpoint = new IPEndPoint(peer, _options.PeerIkePort),
            RemoteNatTraversalPort = _options.PeerNatTPort,
            ForceUdpEncapsulation = true,
        };
    }

    private async Task<StepResult> EstablishOne(StepContext context)
    {
        int index = (int)context.InvocationNumber;
        int pair = index % _initiators!.Pairs;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        timeout.CancelAfter(_options.SaTimeout);
        IkeEvent outcome;
        try { outcome = await _initiators.EstablishAsync(Config(index, _initiators.IkeEndPoint(pair)), pair, timeout.Token); }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested) { return StepResult.Fail("timeout"); }
        return outcome switch
        {
            ChildSaEstablished => StepResult.Ok(),
            IkeSaClosed c => StepResult.Fail($"closed: {c.Reason}"),
            ChildSaFailed f => StepResult.Fail($"child failed: {f.Reason}"),
            _ => StepResult.Fail("unexpected " + outcome.GetType().Name),
        };
    }

    public async ValueTask DisposeAsync()
    {
        if (_initiators is not null) await _initiators.DisposeAsync();
        if (_peers is not null) await _peers.DisposeAsync();
    }
}
