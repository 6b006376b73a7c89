using System.Diagnostics;
using System.Net;
using KeyProxy.Edge;
using KeyProxy.Handset;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Issue 18, the TUN packet path: two edges, each owning its pool as a prefix routed to a TUN device it created, carry a
/// proxied exchange between their handsets (flow 3) and ESP in UDP both ways, all of it through the kernel's routing
/// between the two devices: alice's session sends IKE from her address into edge A's device, the kernel routes it to
/// bob's address on edge B's device, and so on. No socket is bound on a handset's address.
/// </summary>
public sealed class TunPacketPathTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Two_tun_edges_carry_a_proxied_exchange_and_esp_both_ways_through_the_kernels_routing()
    {
        const string alice = "alice-tun@keyproxy.test", bob = "bob-tun@keyproxy.test";
        const string poolA = "100.64.165.0/24", poolB = "100.64.166.0/24";
        var settings = new Dictionary<string, string> { ["KeyProxy:Edge:PacketPath"] = "Tun" };
        await using var world = await SessionLeaseTests.World.StartAsync(alice, bob, settings, poolA, poolB);
        string deviceA = world.EdgeA.Edge.TunDeviceName!, deviceB = world.EdgeB.Edge.TunDeviceName!;
        Assert.NotNull(deviceA);
        Assert.NotNull(deviceB);
        var a = world.Alice.Host.Address!;
        var b = world.Bob.Host.Address!;
        // The kernel routes each pool to its edge's device.
        Assert.Contains($"dev {deviceA}", Ip("route", "get", a.ToString()));
        Assert.Contains($"dev {deviceB}", Ip("route", "get", b.ToString()));

        await world.ExchangeAsync("alice to bob through two TUN devices");
        var text = "bob back to alice";
        Assert.Equal(HandsetPacketStatus.Ok, world.Bob.Host.Send(Proxied.Udp(b, 7, a, 40000, text)).Status);
        Assert.Equal(text, Proxied.Text(await Proxied.NextDeliveredAsync(world.Alice.Host, Wait, Ct)));

        // ESP both ways with no grain call: 50 round trips.
        var metricsA = world.EdgeA.Edge.Metrics;
        var metricsB = world.EdgeB.Edge.Metrics;
        long callsA = metricsA.GrainCalls, callsB = metricsB.GrainCalls;
        long toNetworkA = metricsA.Packets(EdgePacketClass.RoutedToNetwork), toHandsetB = metricsB.Packets(EdgePacketClass.RoutedToHandset);
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(HandsetPacketStatus.Ok, world.Alice.Host.Send(Proxied.Udp(a, 40000, b, 7, $"ping {i}")).Status);
            Assert.Equal($"ping {i}", Proxied.Text(await Proxied.NextDeliveredAsync(world.Bob.Host, Wait, Ct)));
            Assert.Equal(HandsetPacketStatus.Ok, world.Bob.Host.Send(Proxied.Udp(b, 7, a, 40000, $"pong {i}")).Status);
            Assert.Equal($"pong {i}", Proxied.Text(await Proxied.NextDeliveredAsync(world.Alice.Host, Wait, Ct)));
        }
        var clock = Stopwatch.StartNew();
        while (metricsA.Packets(EdgePacketClass.RoutedToNetwork) - toNetworkA < 50 && clock.Elapsed < Wait) await Task.Delay(20, Ct);
        output.WriteLine($"edge A ({deviceA}): routed to network +{metricsA.Packets(EdgePacketClass.RoutedToNetwork) - toNetworkA}, " +
            $"edge B ({deviceB}): routed to handset +{metricsB.Packets(EdgePacketClass.RoutedToHandset) - toHandsetB}; grain calls A +{metricsA.GrainCalls - callsA}, B +{metricsB.GrainCalls - callsB}");
        Assert.True(metricsA.Packets(EdgePacketClass.RoutedToNetwork) - toNetworkA >= 50); // alice's pings into edge A's device
        Assert.True(metricsB.Packets(EdgePacketClass.RoutedToHandset) - toHandsetB >= 50);
        Assert.Equal(callsA, metricsA.GrainCalls);
        Assert.Equal(callsB, metricsB.GrainCalls);
        Assert.True(metricsA.Packets(EdgePacketClass.IkeToNetwork) > 0 && metricsB.Packets(EdgePacketClass.IkeFromNetwork) > 0);
    }

    private static string Ip(params string[] args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return text;
    }
}
