using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Issue 8, hostile input on the network side: IKE and ESP of one tunnel sent to the address of another. alice (edge A)
/// and bob (edge B) have a proxied IKE SA and CHILD_SA; carol is attached at edge A too. The alice-bob IKE SA's SPIs
/// sent to carol's address find no route there (the route table is keyed by handset address and SPI) and are dropped
/// as NoRoute; ESP with bob's SPI sent to carol's address is routed to carol as traffic (S24: the edge keeps no ESP
/// state) and her handset drops it, having no such SA; a datagram to a pool address nobody holds reaches no socket of
/// the edge at all. alice and bob see none of it and their SAs keep working.
/// </summary>
public sealed class NetworkSideAddressTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ike_and_esp_of_one_tunnel_sent_to_another_handsets_address_are_dropped_and_counted_and_touch_neither_tunnel()
    {
        const string alice = "alice-addr@keyproxy.test", bob = "bob-addr@keyproxy.test", carol = "carol-addr@keyproxy.test";
        const string poolA = "127.0.165.0/24", poolB = "127.0.166.0/24";
        await using var world = await SessionLeaseTests.World.StartAsync(alice, bob, new(), poolA, poolB);
        await world.EdgeA.ProvisionAsync(Proxied.Subscriber(carol, poolB));
        await using var carolHandset = new SessionLeaseTests.Recorded(carol, Proxied.Handset(carol, world.EdgeA.AccessEndPoint, poolB));
        carolHandset.Host.Attach();
        var carolAddress = (await carolHandset.WaitForAsync<Attached>(_ => true, TimeSpan.FromSeconds(15))).Address;
        var (aliceSa, bobSa) = await world.ExchangeAsync("alice to bob before the forgeries");
        var session = await world.SessionOfAsync(alice);
        var info = await world.EdgeA.Grains.GetGrain<KeyProxy.Abstractions.IProxySessionGrain>(session).GetInfo();
        var spis = info!.IkeSpis.Split('/');
        ulong spii = Convert.ToUInt64(spis[0], 16), spir = Convert.ToUInt64(spis[1], 16);

        var metrics = world.EdgeA.Edge.Metrics;
        long noRoute = metrics.Drops(EdgeDropReason.NoRoute), routed = metrics.Packets(EdgePacketClass.RoutedToHandset);
        long ikeFromNetwork = metrics.Packets(EdgePacketClass.IkeFromNetwork);
        long carolNoSa = carolHandset.Host.Counters.DroppedNoSa + carolHandset.Host.Counters.DroppedDecrypt;
        long aliceDelivered = world.Alice.Host.Counters.Delivered, bobDelivered = world.Bob.Host.Counters.Delivered;

        using var attacker = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        attacker.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.41"), 0));
        var informational = Informational(spii, spir);
        attacker.SendTo(informational, new IPEndPoint(carolAddress, 500));
        attacker.SendTo([0, 0, 0, 0, .. informational], new IPEndPoint(carolAddress, 4500));
        attacker.SendTo(Esp(bobSa.InboundSpi), new IPEndPoint(carolAddress, 4500));
        attacker.SendTo(Esp(aliceSa.InboundSpi), new IPEndPoint(carolAddress, 4500));
        attacker.SendTo(informational, new IPEndPoint(IPAddress.Parse("127.0.165.200"), 500)); // nobody holds it

        await SessionLeaseTests.EventuallyAsync(() => Task.FromResult(metrics.Drops(EdgeDropReason.NoRoute) - noRoute == 2
            && carolHandset.Host.Counters.DroppedNoSa + carolHandset.Host.Counters.DroppedDecrypt - carolNoSa == 2), TimeSpan.FromSeconds(10), "both forgeries counted");
        await Task.Delay(300, Ct); // and nothing more arrives anywhere
        output.WriteLine($"5 datagrams with another tunnel's SPIs: edge A NoRoute +{metrics.Drops(EdgeDropReason.NoRoute) - noRoute} (IKE to carol on 500 and 4500), " +
            $"IkeFromNetwork +{metrics.Packets(EdgePacketClass.IkeFromNetwork) - ikeFromNetwork}, RoutedToHandset +{metrics.Packets(EdgePacketClass.RoutedToHandset) - routed} (ESP to carol), " +
            $"carol's handset dropped {carolHandset.Host.Counters.DroppedNoSa + carolHandset.Host.Counters.DroppedDecrypt - carolNoSa} (no such SA); the one to an unheld pool address reached no edge socket; " +
            $"alice delivered +{world.Alice.Host.Counters.Delivered - aliceDelivered}, bob +{world.Bob.Host.Counters.Delivered - bobDelivered}");
        Assert.Equal(2, metrics.Drops(EdgeDropReason.NoRoute) - noRoute);
        Assert.Equal(2, metrics.Packets(EdgePacketClass.IkeFromNetwork) - ikeFromNetwork);
        Assert.Equal(2, metrics.Packets(EdgePacketClass.RoutedToHandset) - routed);
        Assert.Equal(aliceDelivered, world.Alice.Host.Counters.Delivered);
        Assert.Equal(bobDelivered, world.Bob.Host.Counters.Delivered);
        Assert.DoesNotContain(carolHandset.Events, e => e is SaInstalled);

        // The tunnel the SPIs belong to is untouched: alice's SA still carries to bob.
        var text = "alice to bob after the forgeries";
        Assert.Equal(HandsetPacketStatus.Ok, world.Alice.Host.Send(Proxied.Udp(world.Alice.Host.Address!, 40000, world.Bob.Host.Address!, 7, text)).Status);
        Assert.Equal(text, Proxied.Text(await Proxied.NextDeliveredAsync(world.Bob.Host, TimeSpan.FromSeconds(10), Ct)));
    }

    /// <summary>An INFORMATIONAL request header with the IKE SA's SPIs and an SK payload of garbage (RFC 7296 3.1, 3.14).</summary>
    private static byte[] Informational(ulong spii, ulong spir)
    {
        var m = new byte[28 + 40];
        BinaryPrimitives.WriteUInt64BigEndian(m, spii);
        BinaryPrimitives.WriteUInt64BigEndian(m.AsSpan(8), spir);
        m[16] = 46; // SK
        m[17] = 0x20;
        m[18] = 37; // INFORMATIONAL
        m[19] = 0x08; // initiator, request
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(20), 9);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(24), (uint)m.Length);
        BinaryPrimitives.WriteUInt16BigEndian(m.AsSpan(30), 40);
        return m;
    }

    /// <summary>ESP in UDP (RFC 3948) with the given SPI, sequence 1 and a garbage body.</summary>
    private static byte[] Esp(uint spi)
    {
        var m = new byte[8 + 48];
        BinaryPrimitives.WriteUInt32BigEndian(m, spi);
        BinaryPrimitives.WriteUInt32BigEndian(m.AsSpan(4), 1);
        m.AsSpan(8).Fill(0x5a);
        return m;
    }
}
