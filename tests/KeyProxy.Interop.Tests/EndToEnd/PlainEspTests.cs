using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Edge;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Issue 18, plain ESP: a charon in its own namespace (strongSwan 6, kernel-libipsec with <c>raw_esp</c>, since this
/// kernel has no ESP of its own) with no NAT between it and the handset's address. With the edge on the TUN packet path
/// the proxy's NAT detection is honest (RFC 7296 2.23), finds no NAT, and the CHILD_SA is plain ESP (IP protocol 50,
/// RFC 3948 not applied): the key transfer says so, the handset sends and takes IP protocol 50 inside its access tunnel,
/// and the edge routes it through its device both ways without a grain call. Forced by the setting, or with the edge on
/// the socket path (which has only UDP sockets), the same charon gets ESP in UDP.
/// </summary>
public sealed class PlainEspTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Tun", false, true)]
    [InlineData("Tun", true, false)]
    [InlineData("Sockets", false, false)]
    public async Task Charon_with_no_nat_between_gets_plain_esp_where_the_edge_carries_it_and_echoes_go_through_both_ways(
        string packetPath, bool forceUdpEncapsulation, bool plainEsp)
    {
        var settings = new Dictionary<string, string>
        {
            ["KeyProxy:Edge:PacketPath"] = packetPath,
            ["KeyProxy:Network:ForceUdpEncapsulation"] = forceUdpEncapsulation ? "true" : "false",
        };
        await using var world = await ProxiedWorld.StartAsync(settings: settings, ct: Ct);
        Assert.Equal(packetPath == "Tun", world.Silo.Edge.TunDeviceName is not null);
        var charon = await world.StartCharonAsync(o => o with { Build = StrongSwanBuild.Upstream6, RawEsp = true }, Ct);
        // Every IP protocol 50 packet that reaches charon's namespace, by SPI.
        using var rawEsp = world.Ns.OpenRawEsp();
        using var stopWatching = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var espSpis = new ConcurrentQueue<uint>();
        var watcher = WatchAsync(rawEsp, espSpis, stopWatching.Token);
        var (handset, events, attached) = await world.AttachAsync(Ct);
        try
        {
            var installed = await world.EstablishFromHandsetAsync(handset, events, Ct);
            var (ike, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
            output.WriteLine($"{packetPath}, forced {forceUdpEncapsulation}: {ike}\n  {child}");
            Assert.Equal(installed.InboundSpi, child.SpiOut);
            Assert.Equal(attached.Address.ToString(), ike.RemoteHost);
            // charon's own view: a NAT (the proxy's faked hash) and UDP encapsulation, or neither.
            Assert.Equal(!plainEsp, ike.NatRemote);
            Assert.Equal(!plainEsp, child.Encap);
            Assert.Equal(plainEsp ? 500 : 4500, ike.RemotePort);

            // The UDP echo through charon's tunnel both ways; ESP crosses the edge without a grain call.
            const int echoes = 20;
            long grainCalls = world.Silo.Edge.Metrics.GrainCalls;
            long toNetwork = world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork);
            long toHandset = world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset);
            for (int i = 0; i < echoes; i++) await world.EchoAsync(handset, $"{packetPath} echo #{i}", Ct);
            Assert.Equal(grainCalls, world.Silo.Edge.Metrics.GrainCalls);
            await SessionLeaseTests.EventuallyAsync(() => Task.FromResult(world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork) >= toNetwork + echoes
                && world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset) >= toHandset + echoes), TimeSpan.FromSeconds(10), $"{echoes} packets routed each way");
            (_, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi && c.PacketsIn >= echoes + 1, ct: Ct);

            // On the wire in charon's namespace: the handset's ESP (the held packet and the echoes) came as IP protocol 50
            // with its outbound SPI, or, encapsulated, never as IP protocol 50 at all.
            int seen = espSpis.Count(spi => spi == installed.OutboundSpi);
            output.WriteLine($"IP protocol 50 packets with the handset's SPI 0x{installed.OutboundSpi:x8} in charon's namespace: {seen}; " +
                $"charon counted {child.PacketsIn} in; edge routed +{world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork) - toNetwork} " +
                $"to the network and +{world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset) - toHandset} to the handset");
            if (plainEsp) Assert.True(seen >= echoes + 1, $"{seen} plain ESP packets from the handset, expected {echoes + 1}");
            else Assert.Empty(espSpis);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
        finally
        {
            stopWatching.Cancel();
            rawEsp.Dispose();
            await watcher;
        }
    }

    /// <summary>Reads IPv4 packets of protocol 50 from <paramref name="socket"/> and records each one's SPI (RFC 4303 2.1) until stopped.</summary>
    private static async Task WatchAsync(Socket socket, ConcurrentQueue<uint> spis, CancellationToken stop)
    {
        var buffer = new byte[65536];
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var r = await socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), stop);
                int header = (buffer[0] & 0x0F) * 4;
                if (r.ReceivedBytes >= header + 8 && buffer[9] == 50)
                    spis.Enqueue(BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(header)));
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
        catch (SocketException) { }
    }
}
