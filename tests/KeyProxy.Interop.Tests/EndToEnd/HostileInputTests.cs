using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Wire.Access;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Hostile input at the edge from both sides (DESIGN "Security"): random and truncated datagrams
/// to the access port and to an attached handset's 500 and 4500, and access datagrams with valid
/// framing but garbage inside. Nothing escapes the loops, each is dropped and counted, and the
/// edge keeps serving: a normal attach and a proxy request still work afterwards.
/// </summary>
public sealed class HostileInputTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Random_datagrams_on_both_sides_are_counted_and_the_edge_keeps_serving()
    {
        await using var silo = await EdgeSilo.StartAsync("edge-hostile", "127.0.72.0/24", ct: Ct);
        await silo.ProvisionAsync(Proxied.Subscriber("hostile@keyproxy.test", "127.0.0.0/24"));
        await using var handset = Proxied.Handset("hostile@keyproxy.test", silo.AccessEndPoint, "127.0.0.0/24");
        handset.Attach();
        var attached = await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
        var metrics = silo.Edge.Metrics;

        var random = new Random(8);
        using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        attacker.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var targets = new[] { silo.AccessEndPoint, new IPEndPoint(attached.Address, 500), new IPEndPoint(attached.Address, 4500) };
        int sent = 0;
        foreach (var target in targets)
        {
            for (int i = 0; i < 300; i++)
            {
                var datagram = new byte[random.Next(1, 600)];
                random.NextBytes(datagram);
                // Some look like IKE (a header-sized prefix with version 2.0), some like framed access data.
                if (i % 3 == 0 && datagram.Length > 28) datagram[17] = 0x20;
                if (i % 3 == 1 && datagram.Length > 8) datagram[0] = 0;
                attacker.SendTo(datagram, target);
                sent++;
                if (sent % 10 == 0) await Task.Delay(2, Ct); // paced, so the kernel's receive buffers do not overflow

            }
        }
        // Framed access data in a tunnel that does not exist, and with the handset's tunnel id from a foreign address.
        var framed = new byte[AccessData.HeaderSize + 40];
        AccessData.WriteHeader(framed, 0xDEADBEEF);
        attacker.SendTo(framed, silo.AccessEndPoint);
        sent++;

        // Everything is counted: as a drop, or (random bytes that happen to classify as traffic) as a packet.
        long Counted()
        {
            long n = 0;
            foreach (var r in Enum.GetValues<EdgeDropReason>()) n += metrics.Drops(r);
            n += metrics.Packets(EdgePacketClass.RoutedToHandset) + metrics.Packets(EdgePacketClass.IkeFromNetwork) + metrics.Packets(EdgePacketClass.AccessControl);
            return n;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Counted() < sent && clock.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(20, Ct);
        var counts = string.Join(", ", Enum.GetValues<EdgeDropReason>().Where(r => metrics.Drops(r) > 0).Select(r => $"{r} {metrics.Drops(r)}"));
        output.WriteLine($"{sent} hostile datagrams; drops: {counts}; routed to handset {metrics.Packets(EdgePacketClass.RoutedToHandset)}");
        Assert.True(Counted() >= sent, $"only {Counted()} of {sent} counted ({counts})");
        Assert.True(metrics.Drops(EdgeDropReason.Malformed) > 0);
        Assert.Equal(0, silo.Edge.HalfOpen);

        // Still serving: the attached handset's link is up (echo), and a new handset attaches.
        await using var second = Proxied.Handset("hostile@keyproxy.test", silo.AccessEndPoint, "127.0.0.0/24");
        second.Attach();
        var again = await second.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
        Assert.Single(silo.Edge.Attachments());
        Assert.Equal(again.Address, silo.Edge.Attachments()[0].HandsetAddress is var a ? IPAddress.Parse(a) : null);
    }
}
