using System.Net;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>The <c>proxied-sa</c> scenario against a real silo in this process and responder peers of our own engine on loopback.</summary>
public class ProxiedSaSmokeTests
{
    [Fact]
    public async Task Twenty_handsets_each_get_an_sa_from_the_proxy_and_the_reports_are_written()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.0.112.0/24", "proxied", ct);
        var edge = smoke.Gateway.AccessEndPoint;
        var api = smoke.Api;
        await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(edge, api, Handsets: 20, Sockets: 2, NaiPrefix: "proxied",
            Peers: 4, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort) { PeerNetwork = IPAddress.Parse("127.0.121.0"), DetachAtEnd = false });
        var (run, violations) = await LoadSession.RunAsync(scenario.Build(), new InjectRate(10, TimeSpan.FromSeconds(2)), smoke.ReportDir,
            [AttachSmokeTests.Parse("proxied-sa:fail<=0")], TextWriter.Null, live: false, ct);

        Assert.Equal(0, scenario.AttachFailures);
        var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
        Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
        Assert.Equal(20, step.Ok);
        Assert.Empty(violations);
        Assert.Equal(20, scenario.InstalledAtEnd);
        Assert.All(scenario.Fleet!.Handsets, h => Assert.Equal(1, h.InstalledSas));
        Assert.Equal(20, scenario.Peers!.Established);
        Assert.Equal(20, scenario.Peers.ChildSas);
        Assert.All(scenario.Peers.Hosts, h => Assert.Equal(5, h.Established));
        Assert.Equal(20, scenario.Peers.EspPackets); // each held packet, released as ESP
        Assert.True(step.P99Ms > 0);
        smoke.AssertReportsWritten("proxied-sa");
        Assert.Contains("SAs/s (the step's RPS)", File.ReadAllText(Path.Combine(smoke.ReportDir, "report.md")));
    }
}
