using System.Net;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Tests;

/// <summary><c>proxied-sa --dh</c>: the subscribers are provisioned with the group's proposal and the peers accept only that group.</summary>
public class ProxiedSaDhGroupTests
{
    [Fact]
    public async Task With_ecp256_the_proxy_negotiates_with_peers_that_accept_only_ecp256()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var smoke = await LoadSmoke.StartAsync("127.0.113.0/24", "proxied-dh", ct);
        var edge = smoke.Gateway.AccessEndPoint;
        var api = smoke.Api;
        await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(edge, api, Handsets: 8, Sockets: 1, NaiPrefix: "proxied-dh",
            Peers: 2, PeerIkePort: smoke.PeerIkePort, PeerNatTPort: smoke.PeerNatTPort) { PeerNetwork = IPAddress.Parse("127.0.122.0"), DhGroup = "ecp256", DetachAtEnd = false });
        var (run, _) = await LoadSession.RunAsync(scenario.Build(), new KeepConstant(4, TimeSpan.FromSeconds(5)), smoke.ReportDir, [], TextWriter.Null, live: false, ct);

        var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
        Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
        Assert.Equal(8, step.Ok);
        Assert.Equal(8, scenario.Peers!.Established);
        Assert.All(scenario.Peers.Hosts, h => Assert.Equal(4, h.ChildSas));
    }
}
