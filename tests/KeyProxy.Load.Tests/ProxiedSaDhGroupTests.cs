using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Silo;
using Microsoft.Extensions.DependencyInjection;

namespace KeyProxy.Load.Tests;

/// <summary><c>proxied-sa --dh</c>: the subscribers are provisioned with the group's proposal and the peers accept only that group.</summary>
public class ProxiedSaDhGroupTests
{
    [Fact]
    public async Task With_ecp256_the_proxy_negotiates_with_peers_that_accept_only_ecp256()
    {
        var ct = TestContext.Current.CancellationToken;
        int ikePort = FreeUdpPort(), natTPort = FreeUdpPort();
        var silo = await AttachSmokeTests.StartSiloAsync(ct, "127.0.113.0/24", $"--KeyProxy:Network:PeerIkePort={ikePort}", $"--KeyProxy:Network:PeerNatTPort={natTPort}");
        var dir = Path.Combine(Path.GetTempPath(), "keyproxy-load-proxied-dh-" + Guid.NewGuid().ToString("N"));
        try
        {
            var edge = silo.Services.GetRequiredService<EdgeGateway>().AccessEndPoint;
            var api = new Uri(KeyProxySiloHost.BaseUrl(silo) + "/");
            await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(edge, api, Handsets: 8, Sockets: 1, NaiPrefix: "proxied-dh",
                Peers: 2, PeerIkePort: ikePort, PeerNatTPort: natTPort) { PeerNetwork = IPAddress.Parse("127.0.122.0"), DhGroup = "ecp256", DetachAtEnd = false });
            var (run, _) = await LoadSession.RunAsync(scenario.Build(), new KeepConstant(4, TimeSpan.FromSeconds(5)), dir, [], TextWriter.Null, live: false, ct);

            var step = Assert.Single(Assert.Single(run.Scenarios).Steps);
            Assert.True(step.Failed == 0, string.Join("; ", step.Failures.Select(f => $"{f.Value} × {f.Key}")));
            Assert.Equal(8, step.Ok);
            Assert.Equal(8, scenario.Peers!.Established);
            Assert.All(scenario.Peers.Hosts, h => Assert.Equal(4, h.ChildSas));
        }
        finally
        {
            await silo.StopAsync(CancellationToken.None);
            await silo.DisposeAsync();
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static int FreeUdpPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
