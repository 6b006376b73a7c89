using System.Diagnostics;
using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Interop.Tests.Fixtures;
using Orleans.Core.Internal;
using Orleans.Runtime;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Issue 8, no SA left on one side only: the leases between a subscriber grain and its proxy sessions
/// (<c>KeyProxy:Network:SessionAuditInterval</c>). Two edges in one cluster (flow 3, both sides proxied, loopback
/// pools, no charon); grains are made to lose their memory the way a silo's death does (a forced deactivation: no
/// DELETE, no key transfer, no unlisting), and the survivors clean up both handsets.
/// </summary>
public sealed class SessionLeaseTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string PoolA = "127.0.163.0/24";
    private const string PoolB = "127.0.164.0/24";

    /// <summary>Short leases, and dead peers noticed within seconds (liveness 2 s, 3 transmissions 0.5 s apart).</summary>
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["KeyProxy:Network:SessionAuditInterval"] = "00:00:01",
        ["KeyProxy:Network:LivenessInterval"] = "00:00:02",
        ["KeyProxy:Network:RetransmitTimeout"] = "00:00:00.5",
        ["KeyProxy:Network:MaxTransmissions"] = "3",
    };

    [Fact]
    public async Task A_responder_session_that_dies_without_a_word_has_its_handset_sa_deleted_by_the_subscriber_and_the_initiator_side_follows()
    {
        const string alice = "alice-lease1@keyproxy.test", bob = "bob-lease1@keyproxy.test";
        await using var world = await World.StartAsync(alice, bob, Settings);
        var (aliceSa, bobSa) = await world.ExchangeAsync("before the session dies");
        var bobSession = await world.SessionOfAsync(bob);
        int before = await ProxySessionActivationsAsync(world.EdgeA);

        // bob's responder session loses everything, as if its silo died: no DELETE to alice's side, no SA delete to bob.
        var clock = Stopwatch.StartNew();
        await world.EdgeA.Grains.GetGrain<IProxySessionGrain>(bobSession).Cast<IGrainManagementExtension>().DeactivateOnIdle(Ct);

        // bob's subscriber finds the session gone at its next audit and deletes bob's half itself.
        var bobRemoved = await world.Bob.WaitForAsync<SaRemoved>(e => e.InboundSpi == bobSa.InboundSpi, Wait);
        var bobGone = clock.Elapsed;
        Assert.Equal(SaRemovalReason.DeletedByNetwork, bobRemoved.Reason);
        // alice's initiator session hears nothing from its peer any more: liveness closes it and deletes alice's half.
        var aliceRemoved = await world.Alice.WaitForAsync<SaRemoved>(e => e.InboundSpi == aliceSa.InboundSpi, TimeSpan.FromSeconds(30));
        var aliceGone = clock.Elapsed;
        Assert.Equal(SaRemovalReason.DeletedByNetwork, aliceRemoved.Reason);
        await EventuallyAsync(async () => await ProxySessionActivationsAsync(world.EdgeA) == 0, TimeSpan.FromSeconds(20), "no proxy session activation left");
        Assert.Equal(0, world.EdgeA.Edge.Routes + world.EdgeB.Edge.Routes);
        Report($"responder session deactivated without a word: bob's SA deleted by his subscriber after {bobGone.TotalMilliseconds:F0} ms (audit 1 s); " +
            $"alice's SA deleted after {aliceGone.TotalMilliseconds:F0} ms (liveness 2 s, 3 transmissions 0.5 s apart); " +
            $"proxy session activations {before} before, 0 after; routes left at both edges: 0");
    }

    [Fact]
    public async Task A_subscriber_that_lost_its_session_list_still_gets_the_old_session_closed_when_its_handset_detaches()
    {
        const string alice = "alice-lease2@keyproxy.test", bob = "bob-lease2@keyproxy.test";
        // Liveness as by default (2 min): what ends alice's half here is bob's session's DELETE, nothing slower.
        await using var world = await World.StartAsync(alice, bob, new() { ["KeyProxy:Network:SessionAuditInterval"] = "00:00:01" });
        var (aliceSa, bobSa) = await world.ExchangeAsync("before the subscriber forgets");
        int before = await ProxySessionActivationsAsync(world.EdgeA);

        // bob's subscriber grain loses its in-memory list (as when its silo died); bob detaches at once, before any
        // lease renewal could list the session again, so the detach closes nothing by itself.
        await world.EdgeA.Grains.GetGrain<ISubscriberGrain>(bob).Cast<IGrainManagementExtension>().DeactivateOnIdle(Ct);
        var clock = Stopwatch.StartNew();
        world.Bob.Detach();
        await world.Bob.WaitForAsync<Detached>(_ => true, Wait);

        // bob's edge finds bob's responder session still routed on his address at the detach and closes it while
        // bob's sockets are up: its DELETE reaches alice's initiator session, which deletes alice's half. (Had the
        // edge died instead, bob's session would close at its next lease renewal.)
        var aliceRemoved = await world.Alice.WaitForAsync<SaRemoved>(e => e.InboundSpi == aliceSa.InboundSpi, Wait);
        var aliceGone = clock.Elapsed;
        Assert.Equal(SaRemovalReason.DeletedByNetwork, aliceRemoved.Reason);
        Assert.Contains(world.Bob.Events.OfType<SaRemoved>(), e => e.InboundSpi == bobSa.InboundSpi && e.Reason == SaRemovalReason.Detached);
        await EventuallyAsync(async () => await ProxySessionActivationsAsync(world.EdgeA) == 0, TimeSpan.FromSeconds(20), "no proxy session activation left");
        Report($"bob detached after his subscriber lost its session list: " +
            $"alice's SA deleted {aliceGone.TotalMilliseconds:F0} ms later (liveness 2 min: by the DELETE of bob's session, which his edge closed at the detach); " +
            $"proxy session activations {before} before, 0 after");
    }

    [Fact]
    public async Task A_responder_half_whose_initiator_died_is_closed_by_the_next_exchange_s_initial_contact_long_before_liveness()
    {
        const string alice = "alice-lease3@keyproxy.test", bob = "bob-lease3@keyproxy.test";
        // Liveness as by default (2 min): what ends bob's old half must be the new IKE SA's INITIAL_CONTACT.
        await using var world = await World.StartAsync(alice, bob, new() { ["KeyProxy:Network:SessionAuditInterval"] = "00:00:01" });
        var (aliceSa, bobSa) = await world.ExchangeAsync("before alice's session dies");

        // alice's initiator session loses everything, as if its silo died (issue 15, the core kill -9: the initiator
        // gone after bob's responder installed his SA). alice's subscriber deletes her half at its next audit; bob's
        // responder session, alive and still listed by his subscriber, keeps his.
        await world.EdgeA.Grains.GetGrain<IProxySessionGrain>(await world.SessionOfAsync(alice)).Cast<IGrainManagementExtension>().DeactivateOnIdle(Ct);
        await world.Alice.WaitForAsync<SaRemoved>(e => e.InboundSpi == aliceSa.InboundSpi, Wait);
        Assert.DoesNotContain(world.Bob.Events.OfType<SaRemoved>(), e => e.InboundSpi == bobSa.InboundSpi);

        // alice talks to bob again: a new session, the only one alice has with bob, sends INITIAL_CONTACT; bob's new
        // responder session has his subscriber close the old one, which deletes bob's old half.
        var clock = Stopwatch.StartNew();
        var (a, b) = (world.Alice.Host.Address!, world.Bob.Host.Address!);
        Assert.Equal(HandsetPacketStatus.Held, world.Alice.Host.Send(Proxied.Udp(a, 40000, b, 7, "after alice's session died")).Status);
        var aliceNew = await world.Alice.WaitForAsync<SaInstalled>(e => e.Peer.Equals(b) && e.InboundSpi != aliceSa.InboundSpi, Wait);
        var bobNew = await world.Bob.WaitForAsync<SaInstalled>(e => e.Peer.Equals(a) && e.InboundSpi != bobSa.InboundSpi, Wait);
        Assert.Equal(aliceNew.InboundSpi, bobNew.OutboundSpi);
        var bobOldRemoved = await world.Bob.WaitForAsync<SaRemoved>(e => e.InboundSpi == bobSa.InboundSpi, Wait);
        var bobOldGone = clock.Elapsed;
        Assert.Equal(SaRemovalReason.DeletedByNetwork, bobOldRemoved.Reason);
        Assert.Equal("after alice's session died", Proxied.Text(await Proxied.NextDeliveredAsync(world.Bob.Host, Wait, Ct)));

        // The new pair is untouched: neither new half is removed, and bob has one proxy session left, the new one.
        await Task.Delay(TimeSpan.FromSeconds(2), Ct); // two audits
        Assert.DoesNotContain(world.Bob.Events.OfType<SaRemoved>(), e => e.InboundSpi == bobNew.InboundSpi);
        Assert.DoesNotContain(world.Alice.Events.OfType<SaRemoved>(), e => e.InboundSpi == aliceNew.InboundSpi);
        var sessions = await world.EdgeA.Grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).List(0, 100);
        var bobSession = Assert.Single(sessions, s => s.Nai == bob);
        Assert.Equal(bobNew.InboundSpi, Assert.Single(bobSession.ChildSas ?? []).InboundSpi);
        Report($"bob's half of an exchange whose initiator died: deleted {bobOldGone.TotalMilliseconds:F0} ms after alice's next packet " +
            "(INITIAL_CONTACT in the new IKE SA; liveness 2 min)");
    }

    [Fact]
    public async Task The_stale_responder_half_is_closed_too_when_its_subscriber_lost_its_session_list_as_well()
    {
        const string alice = "alice-lease4@keyproxy.test", bob = "bob-lease4@keyproxy.test";
        await using var world = await World.StartAsync(alice, bob, new() { ["KeyProxy:Network:SessionAuditInterval"] = "00:00:01" });
        var (aliceSa, bobSa) = await world.ExchangeAsync("before both lose their memory");

        // alice's initiator session dies, and so does bob's subscriber's list: the new IKE SA's INITIAL_CONTACT reaches
        // a subscriber that lists only the new session, and the old one lists itself again at its next renewal
        // (whichever comes first, the old session must end).
        await world.EdgeA.Grains.GetGrain<IProxySessionGrain>(await world.SessionOfAsync(alice)).Cast<IGrainManagementExtension>().DeactivateOnIdle(Ct);
        await world.Alice.WaitForAsync<SaRemoved>(e => e.InboundSpi == aliceSa.InboundSpi, Wait);
        await world.EdgeA.Grains.GetGrain<ISubscriberGrain>(bob).Cast<IGrainManagementExtension>().DeactivateOnIdle(Ct);

        var (a, b) = (world.Alice.Host.Address!, world.Bob.Host.Address!);
        Assert.Equal(HandsetPacketStatus.Held, world.Alice.Host.Send(Proxied.Udp(a, 40000, b, 7, "after both forgot")).Status);
        var bobNew = await world.Bob.WaitForAsync<SaInstalled>(e => e.Peer.Equals(a) && e.InboundSpi != bobSa.InboundSpi, Wait);
        Assert.Equal(SaRemovalReason.DeletedByNetwork, (await world.Bob.WaitForAsync<SaRemoved>(e => e.InboundSpi == bobSa.InboundSpi, Wait)).Reason);
        Assert.Equal("after both forgot", Proxied.Text(await Proxied.NextDeliveredAsync(world.Bob.Host, Wait, Ct)));
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        Assert.DoesNotContain(world.Bob.Events.OfType<SaRemoved>(), e => e.InboundSpi == bobNew.InboundSpi);
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine("[leases] " + line);
    }

    internal static async Task<int> ProxySessionActivationsAsync(EdgeSilo silo)
    {
        int n = 0;
        foreach (var s in await silo.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            if (s.GrainType.Contains("proxysession", StringComparison.OrdinalIgnoreCase)) n++;
        return n;
    }

    internal static async Task EventuallyAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"not reached in {timeout}: {what}");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>Two edges (A with alice, B with bob), each subscriber proxied for the other's pool, handsets recording every event.</summary>
    internal sealed class World : IAsyncDisposable
    {
        private World(EdgeSilo edgeA, EdgeSilo edgeB, Recorded alice, Recorded bob) => (EdgeA, EdgeB, Alice, Bob) = (edgeA, edgeB, alice, bob);

        public EdgeSilo EdgeA { get; }

        public EdgeSilo EdgeB { get; }

        public Recorded Alice { get; }

        public Recorded Bob { get; }

        public static async Task<World> StartAsync(string alice, string bob, Dictionary<string, string> settings, string poolA = PoolA, string poolB = PoolB)
        {
            var edgeA = await EdgeSilo.StartAsync("edge-a", poolA, settings: settings, ct: Ct);
            var edgeB = await EdgeSilo.StartAsync("edge-b", poolB, primary: edgeA, settings: settings, ct: Ct);
            await edgeA.ProvisionAsync(Proxied.Subscriber(alice, poolB));
            await edgeA.ProvisionAsync(Proxied.Subscriber(bob, poolA));
            var world = new World(edgeA, edgeB, new Recorded(alice, Proxied.Handset(alice, edgeA.AccessEndPoint, poolB)), new Recorded(bob, Proxied.Handset(bob, edgeB.AccessEndPoint, poolA)));
            world.Alice.Host.Attach();
            world.Bob.Host.Attach();
            await world.Alice.WaitForAsync<Attached>(_ => true, Wait);
            await world.Bob.WaitForAsync<Attached>(_ => true, Wait);
            return world;
        }

        /// <summary>alice's first datagram to bob: both get their SA, the datagram arrives.</summary>
        public async Task<(SaInstalled Alice, SaInstalled Bob)> ExchangeAsync(string text)
        {
            var a = Alice.Host.Address!;
            var b = Bob.Host.Address!;
            Assert.Equal(HandsetPacketStatus.Held, Alice.Host.Send(Proxied.Udp(a, 40000, b, 7, text)).Status);
            var aliceSa = await Alice.WaitForAsync<SaInstalled>(e => e.Peer.Equals(b), Wait);
            var bobSa = await Bob.WaitForAsync<SaInstalled>(e => e.Peer.Equals(a), Wait);
            Assert.Equal(text, Proxied.Text(await Proxied.NextDeliveredAsync(Bob.Host, Wait, Ct)));
            Assert.Equal(aliceSa.InboundSpi, bobSa.OutboundSpi);
            return (aliceSa, bobSa);
        }

        /// <summary>The subscriber's proxy session, from the session directory (listed once its IKE SA is up).</summary>
        public async Task<Guid> SessionOfAsync(string nai)
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                foreach (var s in await EdgeA.Grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key).List(0, 100))
                    if (s.Nai == nai) return Guid.Parse(s.SessionId);
                if (clock.Elapsed > Wait) throw new TimeoutException($"no session of {nai} listed");
                await Task.Delay(50, Ct);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Alice.DisposeAsync();
            await Bob.DisposeAsync();
            await EdgeB.DisposeAsync();
            await EdgeA.DisposeAsync();
        }
    }

    /// <summary>A handset whose events are all kept, so that tests can wait for one among many.</summary>
    internal sealed class Recorded : IAsyncDisposable
    {
        private readonly List<HandsetEvent> _events = [];
        private readonly Task _reader;

        public Recorded(string nai, UdpHandsetHost host)
        {
            (Nai, Host) = (nai, host);
            _reader = Task.Run(async () =>
            {
                await foreach (var e in host.Events.ReadAllAsync())
                    lock (_events) _events.Add(e);
            });
        }

        public string Nai { get; }

        public UdpHandsetHost Host { get; }

        public IReadOnlyList<HandsetEvent> Events
        {
            get { lock (_events) return [.. _events]; }
        }

        public void Detach() => Host.Detach();

        public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan timeout) where T : HandsetEvent
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (Events.OfType<T>().FirstOrDefault(match) is { } found) return found;
                if (clock.Elapsed > timeout)
                    throw new TimeoutException($"{Nai}: no {typeof(T).Name} within {timeout}; events: {string.Join("; ", Events)}; counters: {Host.Counters}");
                await Task.Delay(20, Ct);
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Host.State == HandsetState.Attached) Host.Detach();
            await Task.Delay(100);
            await Host.DisposeAsync();
            await _reader;
        }
    }
}
