using System.Diagnostics;
using System.Globalization;
using System.Net;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Interop.Tests.Tests;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// The patent's network end to end on real sockets: a KeyProxy silo with its edge, a handset on
/// the access side, and a real charon as the peer in a network namespace of its own (so its
/// userspace ESP carries data). Flows 1 (handset-initiated), 2 (peer-initiated) and 6 (normal
/// routing without grain calls), with ESP both ways after the proxied exchange.
/// </summary>
public sealed class ProxiedExchangeTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Alice = "alice@keyproxy.test";

    private sealed record World(NetworkNamespace Ns, string Pool, StrongSwanPeer Charon, EdgeSilo Silo) : IAsyncDisposable
    {
        public IPAddress Peer => Ns.NamespaceAddress;

        public async ValueTask DisposeAsync()
        {
            await Silo.DisposeAsync();
            await Charon.DisposeAsync();
            Ns.Dispose();
        }
    }

    /// <summary>charon in its namespace on the standard ports 500/4500, trusting the handset pool; the silo's edge gives out addresses from that pool.</summary>
    private static async Task<World> StartWorldAsync(bool charonInitiates = false, string? remoteTs = null)
    {
        var ns = NetworkNamespace.Create();
        try
        {
            var pool = ns.AddHandsetPool();
            var charon = await StrongSwanPeer.StartAsync(new()
            {
                Namespace = ns,
                IkePort = 500,
                NatTPort = 4500,
                Psk = Proxied.Psk,
                RemoteId = "alice.keyproxy.test",
                RemoteTs = remoteTs ?? pool,
                RemoteAddress = charonInitiates ? "%any" : "%any",
            }, Ct);
            var silo = await EdgeSilo.StartAsync("edge-a", pool, ct: Ct);
            await silo.ProvisionAsync(Proxied.Subscriber(Alice, ns.NamespaceAddress + "/32"));
            var echo = ns.BindUdp(new IPEndPoint(ns.NamespaceAddress, 7));
            Proxied.Echo(echo, Ct);
            return new World(ns, pool, charon, silo);
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    [Fact]
    public async Task Handset_initiated_exchange_with_charon_then_esp_both_ways_without_grain_calls()
    {
        await using var world = await StartWorldAsync();
        await using var handset = Proxied.Handset(Alice, world.Silo.AccessEndPoint, world.Peer + "/32");
        try
        {
            handset.Attach();
            var attached = await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
            Assert.StartsWith(world.Pool[..world.Pool.LastIndexOf('.')], attached.Address.ToString());

            var first = Proxied.Udp(attached.Address, 40000, world.Peer, 7, "first, held until the SA is in");
            var clock = Stopwatch.StartNew();
            Assert.Equal(HandsetPacketStatus.Held, handset.Send(first).Status);
            var installed = await handset.WaitForAsync<SaInstalled>(TimeSpan.FromSeconds(20), Ct);
            var proxiedLatency = clock.Elapsed;
            Assert.Equal(1, installed.ReleasedPackets);
            Assert.Equal("first, held until the SA is in", Proxied.Text(await Proxied.NextDeliveredAsync(handset, TimeSpan.FromSeconds(10), Ct)));

            // charon has the CHILD_SA with the SPIs the handset got.
            var (_, child) = await world.Charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
            Assert.Equal(installed.InboundSpi, child.SpiOut);

            // The admin API shows the attachment and the live session.
            using (var http = KeyProxy.Testing.AdminHttp.Client(new Uri(world.Silo.BaseUrl)))
            {
                var attachments = await http.GetStringAsync("/api/attachments", Ct);
                Assert.Contains(Alice, attachments);
                Assert.Contains(attached.Address.ToString(), attachments);
                // A session registers right after its key transfer went out: the handset may be a moment ahead.
                var sessions = await http.GetStringAsync("/api/sessions", Ct);
                for (var deadline = DateTime.UtcNow.AddSeconds(10); !sessions.Contains(Alice) && DateTime.UtcNow < deadline;
                     sessions = await http.GetStringAsync("/api/sessions", Ct))
                    await Task.Delay(50, Ct);
                Assert.Contains(Alice, sessions);
                Assert.Contains(world.Peer.ToString(), sessions);
            }

            // Flow 6: ESP crosses the edge both ways and costs no grain call.
            long grainCalls = world.Silo.Edge.Metrics.GrainCalls;
            long toNetwork = world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork);
            long toHandset = world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset);
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(HandsetPacketStatus.Ok, handset.Send(Proxied.Udp(attached.Address, 40000, world.Peer, 7, $"esp #{i}")).Status);
                Assert.Equal($"esp #{i}", Proxied.Text(await Proxied.NextDeliveredAsync(handset, TimeSpan.FromSeconds(10), Ct)));
            }
            Assert.Equal(grainCalls, world.Silo.Edge.Metrics.GrainCalls);
            // The edge counts a datagram once its send returned, so the echo can reach the handset first: wait for the
            // counters to catch up, then check there is none too many.
            await SessionLeaseTests.EventuallyAsync(() => Task.FromResult(world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork) >= toNetwork + 5
                && world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset) >= toHandset + 5), TimeSpan.FromSeconds(10), "5 datagrams routed each way");
            Assert.Equal(toNetwork + 5, world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork));
            Assert.Equal(toHandset + 5, world.Silo.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset));
            // charon's counters can trail the echoes it already sent: wait for them, then check there is none too many.
            (_, child) = await world.Charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi && c.PacketsIn >= 6, ct: Ct);
            Assert.Equal(6, child.PacketsIn);

            // The same charon, our engine directly from the host (no proxy): the latency to compare with.
            var direct = await DirectExchangeLatencyAsync(world);
            output.WriteLine($"first proxied exchange (held packet to SA installed at the handset): {proxiedLatency.TotalMilliseconds:F1} ms; " +
                $"direct exchange with the same charon: {direct.TotalMilliseconds:F1} ms; ratio {proxiedLatency / direct:F2}");

            // Detach closes the IKE SA at charon (flow 5).
            handset.Detach();
            await handset.WaitForAsync<Detached>(TimeSpan.FromSeconds(10), Ct);
            await world.Charon.WaitForNoIkeSaAsync(sa => sa.RemoteHost == attached.Address.ToString(), ct: Ct);
            Assert.Empty(world.Silo.Edge.Attachments());

            // Warm figures: a second proxied exchange (new attachment, new session) and a second direct one.
            await using var again = Proxied.Handset(Alice, world.Silo.AccessEndPoint, world.Peer + "/32");
            again.Attach();
            var second = await again.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
            clock.Restart();
            Assert.Equal(HandsetPacketStatus.Held, again.Send(Proxied.Udp(second.Address, 40000, world.Peer, 7, "second")).Status);
            await again.WaitForAsync<SaInstalled>(TimeSpan.FromSeconds(20), Ct);
            var warmProxied = clock.Elapsed;
            var warmDirect = await DirectExchangeLatencyAsync(world);
            output.WriteLine($"warm: proxied {warmProxied.TotalMilliseconds:F1} ms, direct {warmDirect.TotalMilliseconds:F1} ms, ratio {warmProxied / warmDirect:F2}");
            Assert.Equal("second", Proxied.Text(await Proxied.NextDeliveredAsync(again, TimeSpan.FromSeconds(10), Ct)));
        }
        catch (Exception) { output.WriteLine(world.Charon.Describe()); throw; }
    }

    /// <summary>IKE_SA_INIT + IKE_AUTH of our engine straight from the host's veth address to the same charon.</summary>
    private static async Task<TimeSpan> DirectExchangeLatencyAsync(World world)
    {
        using var ports = PortAllocator.AllocateBlock(2);
        // Our inner address comes from the handset pool, which charon accepts as the remote selector.
        var inner = IPAddress.Parse(world.Pool[..world.Pool.LastIndexOf('.')] + ".250");
        var config = EspInteropConfig.Initiator(world.Ns, world.Charon, ports, inner) with
        {
            LocalIdentity = KeyProxy.Ike.Auth.IkeIdentity.Fqdn("alice.keyproxy.test"),
            LocalCredential = new KeyProxy.Ike.Auth.PreSharedKeyCredential(System.Text.Encoding.UTF8.GetBytes(Proxied.Psk)),
            PeerAuthentication = KeyProxy.Ike.Auth.PeerAuthentication.WithPreSharedKey(System.Text.Encoding.UTF8.GetBytes(Proxied.Psk)),
        };
        // Timed at the event itself (WaitForAsync polls, which would add up to its poll interval).
        var done = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        await using var host = UdpIkeHost.StartInitiator(config);
        host.EventRaised += e => { if (e is ChildSaEstablished) done.TrySetResult(clock.Elapsed); };
        // Raised before the handler was in place: then this moment is an upper bound.
        if (host.Events.Any(e => e is ChildSaEstablished)) done.TrySetResult(clock.Elapsed);
        await host.WaitForAsync<ChildSaEstablished>(timeout: TimeSpan.FromSeconds(20));
        var elapsed = await done.Task.WaitAsync(TimeSpan.FromSeconds(1), Ct);
        host.Command(s => s.Delete());
        await host.WaitForAsync<IkeSaClosed>(timeout: TimeSpan.FromSeconds(10));
        return elapsed;
    }
}
