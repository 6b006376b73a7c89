using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Flow 4 (seed claims 7-10), several edges and roaming: a cluster of two edge silos, each giving
/// out addresses from its own handset pool, and a real charon in a namespace that trusts both
/// pools. alice completes a proxied exchange at edge A, then turns up at edge B: her profile copy
/// and sockets leave A, her old proxy sessions end (charon loses the IKE SA with her old address),
/// her subscriber grain's activation moves to B's silo, and a new exchange runs through B.
/// </summary>
public sealed class RoamingTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string Alice = "alice@keyproxy.test";

    private sealed record World(NetworkNamespace Ns, string PoolA, string PoolB, StrongSwanPeer Charon, EdgeSilo EdgeA, EdgeSilo EdgeB) : IAsyncDisposable
    {
        public IPAddress Peer => Ns.NamespaceAddress;

        public string PeerPrefix => Peer + "/32";

        public ISubscriberSessionGrain Subscriber => EdgeA.Grains.GetGrain<ISubscriberSessionGrain>(Alice);

        public async ValueTask DisposeAsync()
        {
            await EdgeB.DisposeAsync();
            await EdgeA.DisposeAsync();
            await Charon.DisposeAsync();
            Ns.Dispose();
        }
    }

    /// <summary>
    /// charon in its namespace on 500/4500 with both pools as its remote selectors; edge A and edge B
    /// (one cluster) each with one pool.
    /// </summary>
    private static async Task<World> StartWorldAsync()
    {
        var ns = NetworkNamespace.Create();
        EdgeSilo? edgeA = null;
        StrongSwanPeer? charon = null;
        try
        {
            string poolA = ns.AddHandsetPool(), poolB = ns.AddHandsetPool();
            charon = await StrongSwanPeer.StartAsync(new()
            {
                Namespace = ns,
                IkePort = 500,
                NatTPort = 4500,
                Psk = Proxied.Psk,
                RemoteId = "alice.keyproxy.test",
                RemoteTs = $"{poolA},{poolB}",
            }, Ct);
            edgeA = await EdgeSilo.StartAsync("edge-a", poolA, ct: Ct);
            var edgeB = await EdgeSilo.StartAsync("edge-b", poolB, primary: edgeA, ct: Ct);
            await edgeA.ProvisionAsync(Proxied.Subscriber(Alice, ns.NamespaceAddress + "/32"));
            Proxied.Echo(ns.BindUdp(new IPEndPoint(ns.NamespaceAddress, 7)), Ct);
            return new World(ns, poolA, poolB, charon, edgeA, edgeB);
        }
        catch
        {
            if (edgeA is not null) await edgeA.DisposeAsync();
            if (charon is not null) await charon.DisposeAsync();
            ns.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task Attaching_at_edge_B_revokes_edge_A_closes_the_old_sessions_moves_the_subscriber_and_new_exchanges_go_through_B()
    {
        await using var world = await StartWorldAsync();
        await using var atA = Proxied.Handset(Alice, world.EdgeA.AccessEndPoint, world.PeerPrefix);
        await using var atB = Proxied.Handset(Alice, world.EdgeB.AccessEndPoint, world.PeerPrefix);
        try
        {
            var siloA = await GrainLocation.SiloOfEdgeAsync(world.EdgeA.Grains, world.EdgeA.EdgeId);
            var siloB = await GrainLocation.SiloOfEdgeAsync(world.EdgeA.Grains, world.EdgeB.EdgeId);
            Assert.NotEqual(siloA, siloB);

            // At A: attach, a proxied exchange with charon, ESP echo.
            var oldAddress = await AttachAsync(atA, world.PoolA);
            var oldSa = await ExchangeAsync(world, world.EdgeA, atA, oldAddress);
            await GrainLocation.WaitUntilOnlyOnAsync(world.EdgeA.Grains, world.Subscriber, siloA, Wait, Ct);
            await world.Charon.WaitForIkeSaAsync(sa => sa.IsEstablished && sa.RemoteHost == oldAddress.ToString(), ct: Ct);

            // alice turns up at B without a word to A (a new handset instance: A's copy is revoked by the subscriber grain).
            long requestsAtA = world.EdgeA.Edge.Metrics.Packets(EdgePacketClass.ProxyRequest);
            var newAddress = await AttachAsync(atB, world.PoolB);

            // (b) A dropped her profile copy and her sockets on the old address.
            Assert.DoesNotContain(world.EdgeA.Edge.Attachments(), b => b.Nai == Alice);
            Assert.Empty(world.EdgeA.Edge.Attachments());
            Assert.Contains(world.EdgeB.Edge.Attachments(), b => b.Nai == Alice && b.HandsetAddress == newAddress.ToString());
            AssertBindable(oldAddress, 500);
            AssertBindable(oldAddress, 4500);

            // Her old proxy session ended: charon has no IKE SA with her old address any more.
            await world.Charon.WaitForNoIkeSaAsync(sa => sa.RemoteHost == oldAddress.ToString(), timeout: Wait, ct: Ct);
            await world.Charon.WaitForNoChildSaAsync(c => c.SpiIn == oldSa.OutboundSpi, timeout: Wait, ct: Ct);

            // (a) Claim 9: the subscriber grain's activation followed her to B's silo (migrates once idle).
            await GrainLocation.WaitUntilOnlyOnAsync(world.EdgeA.Grains, world.Subscriber, siloB, Wait, Ct);

            // (c) New exchanges go through B; A sees none of it.
            await ExchangeAsync(world, world.EdgeB, atB, newAddress);
            Assert.Equal(requestsAtA, world.EdgeA.Edge.Metrics.Packets(EdgePacketClass.ProxyRequest));
            Assert.True(world.EdgeB.Edge.Metrics.Packets(EdgePacketClass.ProxyRequest) > 0, "the proxy request went through edge B");
            var summary = await world.EdgeB.Grains.GetGrain<ISubscriberGrain>(Alice).GetSummary();
            Assert.Equal(world.EdgeB.EdgeId, summary?.Attachment?.EdgeId);
            Assert.Equal(newAddress.ToString(), summary?.Attachment?.HandsetAddress);
        }
        catch (Exception)
        {
            Describe(world);
            throw;
        }
    }

    [Fact]
    public async Task Detaching_at_edge_A_closes_the_sessions_there_then_attaching_at_B_moves_the_subscriber_and_new_exchanges_go_through_B()
    {
        await using var world = await StartWorldAsync();
        await using var atA = Proxied.Handset(Alice, world.EdgeA.AccessEndPoint, world.PeerPrefix);
        await using var atB = Proxied.Handset(Alice, world.EdgeB.AccessEndPoint, world.PeerPrefix);
        try
        {
            var siloA = await GrainLocation.SiloOfEdgeAsync(world.EdgeA.Grains, world.EdgeA.EdgeId);
            var siloB = await GrainLocation.SiloOfEdgeAsync(world.EdgeA.Grains, world.EdgeB.EdgeId);

            var oldAddress = await AttachAsync(atA, world.PoolA);
            await ExchangeAsync(world, world.EdgeA, atA, oldAddress);
            await GrainLocation.WaitUntilOnlyOnAsync(world.EdgeA.Grains, world.Subscriber, siloA, Wait, Ct);

            // Detach at A: the proxy deletes the IKE SA at charon, A drops the copy and the sockets.
            atA.Detach();
            await atA.WaitForAsync<Detached>(Wait, Ct);
            await world.Charon.WaitForNoIkeSaAsync(sa => sa.RemoteHost == oldAddress.ToString(), timeout: Wait, ct: Ct);
            Assert.Empty(world.EdgeA.Edge.Attachments());
            AssertBindable(oldAddress, 500);

            // Attach at B: the subscriber grain moves to B's silo and the next exchange goes through B.
            var newAddress = await AttachAsync(atB, world.PoolB);
            await GrainLocation.WaitUntilOnlyOnAsync(world.EdgeA.Grains, world.Subscriber, siloB, Wait, Ct);
            long requestsAtA = world.EdgeA.Edge.Metrics.Packets(EdgePacketClass.ProxyRequest);
            await ExchangeAsync(world, world.EdgeB, atB, newAddress);
            Assert.Equal(requestsAtA, world.EdgeA.Edge.Metrics.Packets(EdgePacketClass.ProxyRequest));
            Assert.Empty(world.EdgeA.Edge.Attachments());
        }
        catch (Exception)
        {
            Describe(world);
            throw;
        }
    }

    private static async Task<IPAddress> AttachAsync(UdpHandsetHost handset, string pool)
    {
        handset.Attach();
        var attached = await handset.WaitForAsync<Attached>(Wait, Ct);
        Assert.True(IPNetwork.Parse(pool).Contains(attached.Address), $"{attached.Address} is not from the edge's pool {pool}");
        return attached.Address;
    }

    /// <summary>
    /// A held first packet, the proxied exchange through <paramref name="edge"/>, the SA at the
    /// handset and at charon, then an ESP echo both ways that costs the edge no grain call.
    /// </summary>
    private async Task<SaInstalled> ExchangeAsync(World world, EdgeSilo edge, UdpHandsetHost handset, IPAddress address)
    {
        Assert.Equal(HandsetPacketStatus.Held, handset.Send(Proxied.Udp(address, 40000, world.Peer, 7, $"held at {edge.EdgeId}")).Status);
        var installed = await handset.WaitForAsync<SaInstalled>(Wait, Ct);
        Assert.NotEqual(0u, installed.RequestId);
        Assert.Equal(1, installed.ReleasedPackets);
        Assert.Equal($"held at {edge.EdgeId}", Proxied.Text(await Proxied.NextDeliveredAsync(handset, Wait, Ct)));
        var (ike, child) = await world.Charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
        Assert.Equal(installed.InboundSpi, child.SpiOut);
        Assert.Equal(address.ToString(), ike.RemoteHost);
        output.WriteLine($"{edge.EdgeId}: {address} SA in 0x{installed.InboundSpi:x8} out 0x{installed.OutboundSpi:x8}; charon {ike.RemoteHost}:{ike.RemotePort}");

        long grainCalls = edge.Edge.Metrics.GrainCalls;
        long routed = edge.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(HandsetPacketStatus.Ok, handset.Send(Proxied.Udp(address, 40000, world.Peer, 7, $"{edge.EdgeId} #{i}")).Status);
            Assert.Equal($"{edge.EdgeId} #{i}", Proxied.Text(await Proxied.NextDeliveredAsync(handset, Wait, Ct)));
        }
        Assert.Equal(grainCalls, edge.Edge.Metrics.GrainCalls);
        Assert.Equal(routed + 3, edge.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork));
        // charon's counters can trail the echoes it already sent: wait for them, then check there is none too many.
        (_, child) = await world.Charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi && c.PacketsIn >= 4, ct: Ct);
        Assert.Equal(4, child.PacketsIn);
        return installed;
    }

    /// <summary>The edge let go of the address: a socket of ours binds it (the pool is a local route of this host).</summary>
    private static void AssertBindable(IPAddress address, int port)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(address, port));
    }

    private void Describe(World world)
    {
        output.WriteLine(EdgeDiagnostics.Describe(world.EdgeA));
        output.WriteLine(EdgeDiagnostics.Describe(world.EdgeB));
        output.WriteLine(world.Charon.Describe());
    }
}
