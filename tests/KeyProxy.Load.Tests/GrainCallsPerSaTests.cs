using System.Net;
using KeyProxy.Load.Baselines;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>
/// Issue 17, item 2: the grain calls one proxied SA costs, per flow, counted by the silo (GET /api/grain-calls) over
/// the load phase only (after provisioning and attach), on a real silo in this process with engine peers. The
/// session audit is off so that only the exchange's own calls count. A change to the path changes these counts on
/// purpose; the target is at most 4 for flow 1.
/// </summary>
public class GrainCallsPerSaTests(ITestOutputHelper output)
{
    private const int Sas = 20;
    private const string NoAudit = "--KeyProxy:Network:SessionAuditInterval=00:00:00";

    [Fact]
    public async Task Flow_1_a_handset_initiated_sa_costs_eleven_grain_calls()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.2.3.0/24", "calls-flow1", ct, NoAudit);
        await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(smoke.Gateway.AccessEndPoint, smoke.Api, Handsets: Sas, Sockets: 2,
            NaiPrefix: "calls1", Peers: 4, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort) { PeerNetwork = IPAddress.Parse("127.0.123.0"), DetachAtEnd = false });
        var calls = await MeasureAsync(scenario.Build(), smoke, ct);

        AssertPerSa(calls, new Dictionary<string, double>
        {
            // The edge hands the handset's proxy request to a new session (S21-S23), which has the edge route the
            // new IKE SA's SPI back to it.
            ["IProxySessionGrain.StartInitiator"] = 1,
            ["IEdgeGrain.AddRoute"] = 1,
            // The session asks the subscriber for its IKE credentials and tells it it started (the lease).
            ["ISubscriberSessionGrain.GetProxyCredentials"] = 1,
            ["ISubscriberSessionGrain.SessionStarted"] = 1,
            ["ISessionDirectoryGrain.Register"] = 1,
            // IKE_SA_INIT and IKE_AUTH out through the handset's edge, their responses back in.
            ["IEdgeGrain.SendIke"] = 2,
            ["IProxySessionGrain.HandleIke"] = 2,
            // The subscriber seals the key transfer for the handset; the edge delivers it.
            ["ISubscriberSessionGrain.SealKeyTransfer"] = 1,
            ["IEdgeGrain.DeliverKeyTransfer"] = 1,
        });
        Assert.Equal(11 * Sas, calls.Calls);
    }

    [Fact]
    public async Task Flow_2_a_peer_initiated_sa_costs_ten_grain_calls()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.2.4.0/24", "calls-flow2", ct, NoAudit);
        await using var scenario = new PeerInitiatedScenario(new PeerInitiatedOptions(smoke.Gateway.AccessEndPoint, smoke.Api, Handsets: Sas, Sockets: 2,
            NaiPrefix: "calls2", Peers: 4, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort) { PeerNetwork = IPAddress.Parse("127.0.124.0"), DetachAtEnd = false });
        var calls = await MeasureAsync(scenario.Build(), smoke, ct);

        AssertPerSa(calls, new Dictionary<string, double>
        {
            // The edge hands the peer's IKE_SA_INIT to a new responder session (S31) and its IKE_AUTH after it.
            ["IProxySessionGrain.StartResponder"] = 1,
            ["IProxySessionGrain.HandleIke"] = 1,
            ["ISubscriberSessionGrain.GetProxyCredentials"] = 1,
            ["ISubscriberSessionGrain.SessionStarted"] = 1,
            ["ISessionDirectoryGrain.Register"] = 1,
            // The two responses out through the handset's edge; the edge stops counting the SA as half-open.
            ["IEdgeGrain.SendIke"] = 2,
            ["IEdgeGrain.SessionEstablished"] = 1,
            // Sealed by the subscriber, delivered by the edge.
            ["ISubscriberSessionGrain.SealKeyTransfer"] = 1,
            ["IEdgeGrain.DeliverKeyTransfer"] = 1,
        });
        Assert.Equal(10 * Sas, calls.Calls);
    }

    private static async Task<GrainCallMeter> MeasureAsync(Scenario scenario, LoadSmoke smoke, CancellationToken ct)
    {
        var calls = new GrainCallMeter(smoke.Api);
        var (run, _) = await LoadSession.RunAsync(LoadPhase.Measure(scenario, calls), new InjectRate(10, TimeSpan.FromSeconds(2)), smoke.ReportDir,
            [], TextWriter.Null, live: false, ct);
        var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
        Assert.True(step.Ok == Sas, $"{step.Ok} of {Sas} SAs; " + string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
        return calls;
    }

    private void AssertPerSa(GrainCallMeter calls, IReadOnlyDictionary<string, double> expected)
    {
        var perSa = calls.ByMethod.ToDictionary(c => c.Key, c => (double)c.Value / Sas);
        output.WriteLine($"grain calls per SA: {(double)calls.Calls!.Value / Sas:F2}; allocated per SA: {calls.AllocatedBytes!.Value / Sas / 1024.0:F0} KiB");
        foreach (var (method, count) in perSa) output.WriteLine($"  {method}: {count:F2}");
        Assert.Equal(expected.OrderBy(e => e.Key), perSa.OrderBy(e => e.Key));
    }
}
