using System.Net;
using KeyProxy.Load.Baselines;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>
/// Issue 17, item 2: the grain calls one proxied SA costs, per flow, counted by the silo (GET /api/grain-calls) over
/// the load phase only (after provisioning and attach), on a real silo in this process with engine peers. The
/// session audit is off so that only the exchange's own calls count. A change to the path changes these counts on
/// purpose; the target is at most 4 for flow 1 (10 before the session answered the edge with what to do and
/// sealed its first key transfer itself, 9 for flow 2).
/// </summary>
public class GrainCallsPerSaTests(ITestOutputHelper output)
{
    private const int Sas = 20;
    private const string NoAudit = "--KeyProxy:Network:SessionAuditInterval=00:00:00";

    [Fact]
    public async Task Flow_1_a_handset_initiated_sa_costs_four_grain_calls()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.2.5.0/24", "calls-flow1", ct, NoAudit);
        await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(smoke.Gateway.AccessEndPoint, smoke.Api, Handsets: Sas, Sockets: 2,
            NaiPrefix: "calls1", Peers: 4, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort) { PeerNetwork = IPAddress.Parse("127.0.123.0"), DetachAtEnd = false });
        var calls = await MeasureAsync(scenario.Build(), smoke, ct);

        AssertPerSa(calls, new Dictionary<string, double>
        {
            // The edge hands the handset's proxy request to a new session (S21-S23); the answer is the route for the new
            // IKE SA's SPI and IKE_SA_INIT, which the edge sends as the handset.
            ["IProxySessionGrain.StartInitiator"] = 1,
            // The session gets the subscriber's IKE credentials, is listed by it (the lease) with its first CHILD_SA's
            // inbound SPI, and gets the delivery key and a counter for sealing that CHILD_SA's key transfer, in one call.
            ["ISubscriberSessionGrain.BeginSession"] = 1,
            // The peer's two responses in; the answers: IKE_AUTH to send, then the sealed key transfer to deliver.
            ["IProxySessionGrain.HandleIke"] = 2,
        });
        Assert.Equal(4 * Sas, calls.Calls);
    }

    [Fact]
    public async Task Flow_2_a_peer_initiated_sa_costs_three_grain_calls()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.2.6.0/24", "calls-flow2", ct, NoAudit);
        await using var scenario = new PeerInitiatedScenario(new PeerInitiatedOptions(smoke.Gateway.AccessEndPoint, smoke.Api, Handsets: Sas, Sockets: 2,
            NaiPrefix: "calls2", Peers: 4, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort) { PeerNetwork = IPAddress.Parse("127.0.124.0"), DetachAtEnd = false });
        var calls = await MeasureAsync(scenario.Build(), smoke, ct);

        AssertPerSa(calls, new Dictionary<string, double>
        {
            // The edge hands the peer's IKE_SA_INIT to a new responder session (S31), which begins at the subscriber as in
            // flow 1; the answer is the IKE_SA_INIT response. Then the peer's IKE_AUTH: the answer is the IKE_AUTH
            // response, the IKE SA established (no longer half-open at the edge) and the sealed key transfer.
            ["IProxySessionGrain.StartResponder"] = 1,
            ["ISubscriberSessionGrain.BeginSession"] = 1,
            ["IProxySessionGrain.HandleIke"] = 1,
        });
        Assert.Equal(3 * Sas, calls.Calls);
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
