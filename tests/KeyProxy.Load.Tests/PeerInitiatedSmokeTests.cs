using System.Net;
using KeyProxy.Edge;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Tests;

/// <summary>
/// The <c>peer-initiated</c> scenario against a real silo in this process: initiator peers of our own engine start
/// IKE towards the attached handsets' addresses (the edge's sockets on 500/4500, so this runs as root).
/// </summary>
public class PeerInitiatedSmokeTests
{
    [Fact]
    public async Task Peers_initiate_towards_twenty_handsets_and_each_gets_the_sa_the_peer_has()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.2.1.0/24", "peer-initiated", ct);
        var gateway = smoke.Gateway;
        var api = smoke.Api;
        await using var scenario = new PeerInitiatedScenario(new PeerInitiatedOptions(gateway.AccessEndPoint, api, Handsets: 20, Sockets: 2,
            NaiPrefix: "peerinit", Peers: 4, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort) { PeerNetwork = IPAddress.Parse("127.0.131.0"), DetachAtEnd = false });
        var (run, violations) = await LoadSession.RunAsync(scenario.Build(), new InjectRate(10, TimeSpan.FromSeconds(2)), smoke.ReportDir,
            [AttachSmokeTests.Parse("peer-initiated:fail<=0")], TextWriter.Null, live: false, ct);

        Assert.Equal(0, scenario.AttachFailures);
        var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
        Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
        Assert.Equal(20, step.Ok);
        Assert.Empty(violations);
        Assert.Equal(20, scenario.InstalledAtEnd);
        Assert.All(scenario.Fleet!.Handsets, h => Assert.Equal(1, h.InstalledSas));
        Assert.Equal(20, scenario.Peers!.Established);
        Assert.Equal(20, scenario.Peers.ChildSas);
        Assert.Equal(0, scenario.Peers.Failed);
        Assert.All(scenario.Peers.Hosts, h => Assert.Equal(5, h.Established));
        // Flow 2: every exchange came in from the network and none was asked for by a handset.
        Assert.Equal(0, gateway.Metrics.Packets(EdgePacketClass.ProxyRequest));
        Assert.Equal(20, gateway.Metrics.Packets(EdgePacketClass.KeyTransferToHandset));
        smoke.AssertReportsWritten("peer-initiated");
    }
}
