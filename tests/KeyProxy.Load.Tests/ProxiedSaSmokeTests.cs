using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Silo;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Load.Tests;

/// <summary>The <c>proxied-sa</c> scenario against a real silo in this process and responder peers of our own engine on loopback.</summary>
public class ProxiedSaSmokeTests
{
    [Fact]
    public async Task Twenty_handsets_each_get_an_sa_from_the_proxy_and_the_reports_are_written()
    {
        var ct = TestContext.Current.CancellationToken;
        int ikePort = FreeUdpPort(), natTPort = FreeUdpPort();
        var silo = await AttachSmokeTests.StartSiloAsync(ct, "127.0.112.0/24", $"--KeyProxy:Network:PeerIkePort={ikePort}", $"--KeyProxy:Network:PeerNatTPort={natTPort}");
        var dir = Path.Combine(Path.GetTempPath(), "keyproxy-load-proxied-" + Guid.NewGuid().ToString("N"));
        try
        {
            var edge = silo.Services.GetRequiredService<EdgeGateway>().AccessEndPoint;
            var api = new Uri(KeyProxySiloHost.BaseUrl(silo) + "/");
            await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(edge, api, Handsets: 20, Sockets: 2, NaiPrefix: "proxied",
                Peers: 4, PeerIkePort: ikePort, PeerNatTPort: natTPort) { PeerNetwork = IPAddress.Parse("127.0.121.0"), DetachAtEnd = false });
            var (run, violations) = await LoadSession.RunAsync(scenario.Build(), new InjectRate(10, TimeSpan.FromSeconds(2)), dir,
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
            foreach (var file in new[] { "report.md", "report.csv", "report.html" })
                Assert.Contains("proxied-sa", File.ReadAllText(Path.Combine(dir, file)));
            Assert.Contains("SAs/s (the step's RPS)", File.ReadAllText(Path.Combine(dir, "report.md")));
        }
        finally
        {
            await silo.StopAsync(CancellationToken.None);
            await silo.DisposeAsync();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    internal static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
