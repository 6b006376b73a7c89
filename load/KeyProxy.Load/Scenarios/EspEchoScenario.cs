using System.Net;
using KeyProxy.Handset;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;

namespace KeyProxy.Load.Scenarios;

/// <summary>
/// What the <c>esp-echo</c> scenario needs: as <see cref="ProxiedSaOptions"/> (the SAs come from the proxy the
/// same way), plus the size of the UDP payload each round trip carries.
/// </summary>
public sealed record EspEchoOptions(IPEndPoint Edge, Uri Api, int Handsets, int Sockets, string NaiPrefix, int Peers, int PeerIkePort, int PeerNatTPort)
{
    /// <summary>A local /24 for the responder peers (which echo; 127.0.0.0/8, or an AnyIP range for a TUN edge); the handsets protect it.</summary>
    public IPAddress PeerNetwork { get; init; } = IPAddress.Parse("127.0.132.0");

    /// <summary>UDP payload bytes per packet (at least 8).</summary>
    public int PayloadBytes { get; init; } = 64;

    public TimeSpan AttachTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan SaTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>From the packet sent to its echo delivered; beyond it the step fails with "timeout".</summary>
    public TimeSpan EchoTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Attaches and proxied exchanges in flight while the init prepares the fleet.</summary>
    public int InitParallelism { get; init; } = 32;

    public bool DetachAtEnd { get; init; } = true;
}

/// <summary>
/// <c>esp-echo</c> (data through the edge, DESIGN flow 1 then S24 routing): init does what <c>proxied-sa</c> does
/// for every handset (provision, responder peers, attach, one proxied exchange each, so every handset holds an SA
/// with one peer), with peers that echo the UDP inside their ESP. Invocation i (copy c in the closed model) has
/// handset (c or i) mod N send one UDP packet through its SA: ESP in UDP to the edge, routed as the handset's
/// address to the peer (no grain call), decrypted, echoed as ESP, routed back and decrypted by the handset. The
/// step <c>esp-echo</c> measures that round trip; its bytes are the access-link bytes of both datagrams.
/// </summary>
public sealed class EspEchoScenario : IAsyncDisposable
{
    private readonly EspEchoOptions _options;
    private HandsetFleet? _fleet;
    private ResponderPeers? _peers;

    public EspEchoScenario(EspEchoOptions options) => _options = options;

    public HandsetFleet? Fleet => _fleet;

    public ResponderPeers? Peers => _peers;

    public int AttachFailures { get; private set; }

    /// <summary>Handsets the init could not give an SA (their invocations fail with "no SA").</summary>
    public int SaFailures { get; private set; }

    public Scenario Build() => new("esp-echo", [new Step("esp-echo", EchoOne) { Unit = "round trips" }])
    {
        Init = InitAsync,
        Clean = CleanAsync,
    };

    private string PeerPrefix => _options.PeerNetwork + "/24";

    private IPAddress Peer(int index) => ProxiedFleet.Peer(_options.PeerNetwork, _options.Peers, index);

    private async Task InitAsync(ScenarioInitContext context)
    {
        var ct = context.CancellationToken;
        _peers = new ResponderPeers(_options.Peers, _options.PeerNetwork, _options.PeerIkePort, _options.PeerNatTPort, echoEsp: true);
        (_fleet, AttachFailures) = await ProxiedFleet.AttachAsync(_options.Api, _options.Edge, _options.Handsets, _options.Sockets, _options.NaiPrefix,
            PeerPrefix, _options.AttachTimeout, _options.InitParallelism, ct);
        int failures = 0;
        await Parallel.ForAsync(0, _options.Handsets, new ParallelOptions { MaxDegreeOfParallelism = _options.InitParallelism, CancellationToken = ct },
            async (i, c) =>
            {
                var h = _fleet.Handsets[i];
                object outcome;
                if (h.Address is not { } address) outcome = "not attached";
                else
                {
                    var packet = ProxiedSaScenario.Udp(address, (ushort)(20000 + i % 20000), Peer(i), 7, "esp-echo: first packet " + i);
                    try { outcome = await h.SendProtectedAsync(packet, _options.SaTimeout, c); }
                    catch (TimeoutException) { outcome = "timeout"; }
                }
                if (outcome is not SaInstalled) Interlocked.Increment(ref failures);
            });
        SaFailures = failures;
    }

    private async Task<StepResult> EchoOne(StepContext context)
    {
        int index = (int)((context.CopyNumber >= 0 ? context.CopyNumber : context.InvocationNumber) % _options.Handsets);
        var handset = _fleet!.Handsets[index];
        // Without an SA the packet would be held and start a proxy request: not what this step measures.
        if (handset.InstalledSas == 0) return StepResult.Fail("no SA");
        object outcome;
        try { outcome = await handset.EchoAsync(Peer(index), 7, _options.PayloadBytes, _options.EchoTimeout, context.CancellationToken); }
        catch (TimeoutException) { return StepResult.Fail("timeout"); }
        return outcome switch
        {
            long bytes => StepResult.Ok(bytes),
            HandsetPacketResult { Status: HandsetPacketStatus.Held } => StepResult.Fail("no SA"),
            HandsetPacketResult p => StepResult.Fail($"send: {p.Status} {p.Reason}"),
            _ => StepResult.Fail("unexpected " + outcome.GetType().Name),
        };
    }

    private async Task CleanAsync(CancellationToken ct)
    {
        if (_options.DetachAtEnd && _fleet is not null) await _fleet.DetachAllAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
        if (_peers is not null) await _peers.DisposeAsync();
    }
}
