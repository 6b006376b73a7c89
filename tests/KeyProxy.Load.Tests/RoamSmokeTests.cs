using System.Net;
using KeyProxy.Edge;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Silo;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Load.Tests;

/// <summary>The <c>roam</c> scenario against two edge silos of one localhost cluster in this process.</summary>
public class RoamSmokeTests
{
    [Fact]
    public async Task Handsets_attached_at_edge_A_roam_to_edge_B_with_and_without_a_detach_and_get_a_first_sa_through_B()
    {
        var ct = TestContext.Current.CancellationToken;
        int ikePort = LoadSmoke.FreeUdpPort(), natTPort = LoadSmoke.FreeUdpPort();
        string[] peerPorts = [$"--KeyProxy:Network:PeerIkePort={ikePort}", $"--KeyProxy:Network:PeerNatTPort={natTPort}"];
        int primaryPort = KeyProxy.Testing.FreeTcpPorts.Next();
        var siloA = await StartEdgeAsync("load-edge-a", "127.2.3.0/24", primaryPort, null, peerPorts, ct);
        WebApplication? siloB = null;
        var dir = Path.Combine(Path.GetTempPath(), "keyproxy-load-roam-" + Guid.NewGuid().ToString("N"));
        try
        {
            siloB = await StartEdgeAsync("load-edge-b", "127.2.4.0/24", KeyProxy.Testing.FreeTcpPorts.Next(), primaryPort, peerPorts, ct);
            var (edgeA, edgeB) = (siloA.Services.GetRequiredService<EdgeGateway>(), siloB.Services.GetRequiredService<EdgeGateway>());
            var api = new Uri(KeyProxySiloHost.BaseUrl(siloA) + "/");

            // Turning up at B without a word: B's attach revokes A's copy.
            await using (var silent = new RoamScenario(new RoamOptions(edgeA.AccessEndPoint, edgeB.AccessEndPoint, api, Handsets: 10, Sockets: 2, NaiPrefix: "roam-silent")
                { DetachFirst = false, DetachAtEnd = false }))
            {
                var (run, violations) = await LoadSession.RunAsync(silent.Build(), new InjectRate(10, TimeSpan.FromSeconds(1)), dir,
                    [AttachSmokeTests.Parse("roam:fail<=0")], TextWriter.Null, live: false, ct);
                AssertAllOk(Assert.Single(Assert.Single(run.Scenarios).Steps), 10);
                Assert.Empty(violations);
                Assert.Equal(0, silent.AttachFailures);
                Assert.Equal(10, silent.AttachedAtB);
            }

            // Detach at A first, then attach at B and a first proxied SA through B.
            await using var polite = new RoamScenario(new RoamOptions(edgeA.AccessEndPoint, edgeB.AccessEndPoint, api, Handsets: 10, Sockets: 2, NaiPrefix: "roam-polite")
            {
                Peers = 2, PeerIkePort = ikePort, PeerNatTPort = natTPort, PeerNetwork = IPAddress.Parse("127.0.135.0"), DetachAtEnd = false,
            });
            long requestsAtA = edgeA.Metrics.Packets(EdgePacketClass.ProxyRequest);
            var (run2, violations2) = await LoadSession.RunAsync(polite.Build(), new InjectRate(10, TimeSpan.FromSeconds(1)), dir,
                [AttachSmokeTests.Parse("roam:fail<=0"), AttachSmokeTests.Parse("first-sa:fail<=0")], TextWriter.Null, live: false, ct);
            var steps = Assert.Single(run2.Scenarios).Steps;
            Assert.Equal(["roam", "first-sa"], steps.Select(s => s.Name));
            AssertAllOk(steps[0], 10);
            AssertAllOk(steps[1], 10);
            Assert.Empty(violations2);
            Assert.Equal(10, polite.AttachedAtB);
            Assert.Equal(10, polite.Peers!.ChildSas);
            Assert.Equal(requestsAtA, edgeA.Metrics.Packets(EdgePacketClass.ProxyRequest));
            Assert.True(edgeB.Metrics.Packets(EdgePacketClass.ProxyRequest) >= 10);

            // All twenty are B's now; A holds none of them.
            Assert.Empty(edgeA.Attachments());
            Assert.Equal(20, edgeB.Attachments().Count);
            Assert.All(polite.FleetB!.Handsets, h => Assert.StartsWith("127.2.4.", h.Address!.ToString()));
            LoadSmoke.AssertReportsWritten(dir, "first-sa");
        }
        finally
        {
            if (siloB is not null)
            {
                await siloB.StopAsync(CancellationToken.None);
                await siloB.DisposeAsync();
            }
            await siloA.StopAsync(CancellationToken.None);
            await siloA.DisposeAsync();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static void AssertAllOk(StepStats step, int n)
    {
        Assert.True(step.Failed == 0, $"{step.Name}: " + string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
        Assert.Equal(n, step.Ok);
    }

    /// <summary>An edge silo of the localhost cluster whose primary listens on <paramref name="primaryPort"/> (null: this is the primary).</summary>
    private static async Task<WebApplication> StartEdgeAsync(string edgeId, string pool, int siloPort, int? primaryPort, string[] extra, CancellationToken ct)
    {
        var app = KeyProxySiloHost.Build(
        [
            $"--KeyProxy:HttpUrl={KeyProxy.Testing.AdminHttp.Url}",
            $"--KeyProxy:SiloPort={siloPort}",
            $"--KeyProxy:GatewayPort={KeyProxy.Testing.FreeTcpPorts.Next()}",
            $"--KeyProxy:ClusterId=load-roam-{Environment.ProcessId}-{primaryPort ?? siloPort}",
            $"--KeyProxy:EdgeId={edgeId}",
            "--KeyProxy:DemoSubscribers=false",
            "--KeyProxy:Edge:AccessEndpoint=127.0.0.1:0",
            "--KeyProxy:Edge:AddressPool=" + pool,
            "--Logging:LogLevel:Default=Warning",
            .. primaryPort is { } p ? [$"--KeyProxy:PrimarySiloPort={p}"] : Array.Empty<string>(),
            .. extra,
        ]);
        await app.StartAsync(ct);
        return app;
    }
}
