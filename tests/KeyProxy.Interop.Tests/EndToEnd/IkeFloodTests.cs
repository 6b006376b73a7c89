using System.Net;
using System.Net.Sockets;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Demo;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Primitives;
using Orleans.Runtime;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Denial of service at the edge's network side (DESIGN "Security", RFC 7296 2.6), with our own
/// engine as the initiators on loopback: a flood of IKE_SA_INITs towards a proxied handset's
/// address gets COOKIE answers once a few sessions are half-open, so it starts no more sessions;
/// initiators that do return cookies meet the per-peer and per-edge caps; a legitimate initiator
/// returning its cookie still gets the handset an SA.
/// </summary>
public sealed class IkeFloodTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string Nai = "flood@keyproxy.test";

    [Fact]
    public async Task A_flood_gets_cookies_sessions_stay_bounded_and_a_cookie_returning_initiator_still_gets_an_sa()
    {
        var settings = new Dictionary<string, string>
        {
            ["KeyProxy:Edge:CookieThreshold"] = "2",
            ["KeyProxy:Edge:MaxHalfOpen"] = "6",
            ["KeyProxy:Edge:MaxHalfOpenPerPeer"] = "4",
        };
        // A pool of its own: ReadmeWalkthroughTests' silo binds handset addresses in 127.0.71.0/24, and a bind that fails
        // there refuses the attach.
        await using var edge = await FloodedEdge.StartAsync("edge-flood", "127.0.77.0/24", settings);
        var (silo, handset, target) = (edge.Silo, edge.Handset, edge.Target);
        var metrics = silo.Edge.Metrics;
        try
        {
            // Phase 1: 100 IKE_SA_INITs from 127.0.0.1 that never return a cookie.
            await using (var flood = new Flood(IPAddress.Parse("127.0.0.1"), target))
            {
                flood.SendInitial(100);
                await Eventually(() => metrics.Drops(EdgeDropReason.CookieDemanded) == 98, "98 cookies demanded");
                int cookies = await flood.ReceiveCookiesAsync(98, Ct);
                Assert.Equal(98, cookies);
                Assert.Equal(2, silo.Edge.HalfOpen);
                await EventuallyAsync(async () => await ProxySessionActivationsAsync(silo) == 2, "2 proxy sessions");
                output.WriteLine($"phase 1: {cookies} COOKIE answers, {silo.Edge.HalfOpen} half-open, 2 sessions");

                // Phase 2: a legitimate initiator (our engine on UDP, it returns the cookie by itself) from 127.0.0.3.
                using var ports = PortAllocator.AllocateBlock(2);
                await using (var legit = UdpIkeHost.StartInitiator(InitiatorConfig(IPAddress.Parse("127.0.0.3"), ports, target)))
                {
                    await legit.WaitForAsync<ChildSaEstablished>(timeout: TimeSpan.FromSeconds(15));
                    var installed = await handset.WaitForAsync<SaInstalled>(TimeSpan.FromSeconds(10), Ct);
                    Assert.Equal(IPAddress.Parse("127.0.0.3"), installed.Peer);
                    Assert.Equal(99, metrics.Drops(EdgeDropReason.CookieDemanded)); // its first IKE_SA_INIT got one too
                    // Established: no longer half-open.
                    await Eventually(() => silo.Edge.HalfOpen == 2, "the legitimate session leaves the half-open count");
                }

                // Phase 3: initiators that return cookies (they own their addresses) meet the caps.
                int retried = await flood.ReturnCookiesAsync(Ct);
                Assert.Equal(98, retried);
            }
            await using (var second = new Flood(IPAddress.Parse("127.0.0.2"), target))
            {
                second.SendInitial(20);
                await Eventually(() => metrics.Drops(EdgeDropReason.CookieDemanded) == 119, "cookies for the second peer");
                Assert.Equal(20, await second.ReceiveCookiesAsync(20, Ct));
                Assert.Equal(20, await second.ReturnCookiesAsync(Ct));
                await Eventually(() => metrics.Drops(EdgeDropReason.HalfOpenLimit) == 18, "the edge cap");
            }
            // 127.0.0.1 had 2 half-open, 2 more got in before its share (4) was used up; 127.0.0.2 got the edge's last 2.
            Assert.Equal(96, metrics.Drops(EdgeDropReason.HalfOpenPeerLimit));
            Assert.Equal(18, metrics.Drops(EdgeDropReason.HalfOpenLimit));
            Assert.Equal(6, silo.Edge.HalfOpen);
            int sessions = await ProxySessionActivationsAsync(silo);
            output.WriteLine($"after 220 IKE_SA_INITs: {sessions} proxy session activations, drops: cookie {metrics.Drops(EdgeDropReason.CookieDemanded)}, "
                + $"peer cap {metrics.Drops(EdgeDropReason.HalfOpenPeerLimit)}, edge cap {metrics.Drops(EdgeDropReason.HalfOpenLimit)}");
            Assert.InRange(sessions, 6, 7); // the 6 half-open and, perhaps still, the legitimate one
        }
        catch (Exception) { output.WriteLine($"edge status: half-open {silo.Edge.HalfOpen}, routes {silo.Edge.Routes}; handset counters {handset.Counters}"); throw; }
    }

    [Fact]
    public async Task Cookie_answers_are_rate_limited_per_edge_and_the_excess_is_dropped_unanswered_and_counted()
    {
        var settings = new Dictionary<string, string>
        {
            ["KeyProxy:Edge:CookieThreshold"] = "1",
            ["KeyProxy:Edge:CookieAnswersPerSecond"] = "20",
            ["KeyProxy:Edge:CookieAnswerBurst"] = "10",
        };
        await using var edge = await FloodedEdge.StartAsync("edge-cookie-rate", "127.0.73.0/24", settings);
        var (silo, handset, target) = (edge.Silo, edge.Handset, edge.Target);
        var metrics = silo.Edge.Metrics;
        const int flood = 400;
        await using var first = new Flood(IPAddress.Parse("127.0.0.4"), target);
        first.SendInitial(1); // below the threshold: one session, then every IKE_SA_INIT needs a cookie
        await Eventually(() => silo.Edge.HalfOpen == 1, "one half-open session");

        // A forged-source flood: 400 IKE_SA_INITs at once. The edge answers a bucket's worth with COOKIE, no more.
        await using var spoofed = new Flood(IPAddress.Parse("127.0.0.5"), target);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        spoofed.SendInitial(flood);
        await Eventually(() => metrics.Drops(EdgeDropReason.CookieDemanded) + metrics.Drops(EdgeDropReason.CookieRateLimited) == flood,
            "every IKE_SA_INIT of the flood counted");
        var elapsed = clock.Elapsed.TotalSeconds;
        long answered = metrics.Drops(EdgeDropReason.CookieDemanded), limited = metrics.Drops(EdgeDropReason.CookieRateLimited);
        int received = await spoofed.ReceiveCookiesAsync((int)answered, Ct);
        output.WriteLine($"{flood} IKE_SA_INITs in {elapsed:F2} s with the cookie rate at 20/s, burst 10: {answered} COOKIE answers (received {received}), " +
            $"{limited} dropped unanswered (CookieRateLimited); half-open {silo.Edge.HalfOpen}; proxy session activations {await ProxySessionActivationsAsync(silo)}");
        Assert.InRange(answered, 10, 10 + 20 * elapsed + 1);
        Assert.Equal(flood - answered, limited);
        Assert.Equal(answered, received);
        Assert.Equal(1, silo.Edge.HalfOpen);
        Assert.Equal(1, await ProxySessionActivationsAsync(silo));
    }

    private static async Task<int> ProxySessionActivationsAsync(EdgeSilo silo)
    {
        int n = 0;
        foreach (var s in await silo.Grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            if (s.GrainType.Contains("proxysession", StringComparison.OrdinalIgnoreCase)) n++;
        return n;
    }

    private static async Task EventuallyAsync(Func<Task<bool>> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("not reached in 10 s: " + what);
            await Task.Delay(50, Ct);
        }
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(10)) throw new TimeoutException("not reached in 10 s: " + what);
            await Task.Delay(20, Ct);
        }
    }

    internal static IkeSessionConfig InitiatorConfig(IPAddress local, PortLease ports, IPEndPoint handset) => new()
    {
        LocalIdentity = IkeIdentity.Fqdn("peer.keyproxy.test"),
        LocalCredential = new PreSharedKeyCredential(System.Text.Encoding.UTF8.GetBytes(Proxied.Psk)),
        PeerAuthentication = PeerAuthentication.WithPreSharedKey(System.Text.Encoding.UTF8.GetBytes(Proxied.Psk)),
        RemoteIdentity = IkeIdentity.Fqdn(Nai.Replace('@', '.')),
        IkeProposals = [IkeSuiteNames.ParseIke(SubscriberProfile.DefaultIkeProposal)],
        Child = new ChildSaConfig
        {
            Proposals = [SuiteNames.ParseEsp(SubscriberProfile.DefaultEspProposal)],
            LocalSelectors = [TrafficSelectorNarrowing.ForHost(local)],
            RemoteSelectors = [TrafficSelectorNarrowing.ForHost(handset.Address)],
        },
        LocalEndpoint = new IPEndPoint(local, ports[0]),
        RemoteEndpoint = handset,
        LocalNatTraversalPort = ports[1],
        RemoteNatTraversalPort = 4500,
    };

    /// <summary>Many initiators (one engine each, so distinct SPIs and nonces) behind one UDP socket on one address.</summary>
    /// <summary>
    /// An edge silo with <paramref name="settings"/> and one attached handset whose subscriber lets the network
    /// initiate (responder role); the floods aim at its address, port 500. Disposing closes the handset, then the silo.
    /// </summary>
    private sealed class FloodedEdge(EdgeSilo silo, UdpHandsetHost handset, IPEndPoint target) : IAsyncDisposable
    {
        public EdgeSilo Silo { get; } = silo;

        public UdpHandsetHost Handset { get; } = handset;

        public IPEndPoint Target { get; } = target;

        public static async Task<FloodedEdge> StartAsync(string edgeId, string pool, Dictionary<string, string> settings)
        {
            var silo = await EdgeSilo.StartAsync(edgeId, pool, settings: settings, ct: Ct);
            UdpHandsetHost? handset = null;
            try
            {
                await silo.ProvisionAsync(Proxied.Subscriber(Nai, "127.0.0.0/24", roles: ProxyRoles.Responder));
                handset = Proxied.Handset(Nai, silo.AccessEndPoint, "127.0.0.0/24");
                handset.Attach();
                var attached = await handset.WaitForAsync<Attached>(TimeSpan.FromSeconds(10), Ct);
                return new FloodedEdge(silo, handset, new IPEndPoint(attached.Address, 500));
            }
            catch
            {
                if (handset is not null) await handset.DisposeAsync();
                await silo.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Handset.DisposeAsync();
            await Silo.DisposeAsync();
        }
    }

    private sealed class Flood : IAsyncDisposable
    {
        private readonly PortLease _ports = PortAllocator.AllocateBlock(2);
        private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        private readonly Dictionary<ulong, IkeSession> _sessions = [];
        private readonly Dictionary<ulong, byte[]> _cookieAnswers = [];
        private readonly IPAddress _local;
        private readonly IPEndPoint _target;

        public Flood(IPAddress local, IPEndPoint target)
        {
            (_local, _target) = (local, target);
            _socket.Bind(new IPEndPoint(local, _ports[0]));
        }

        public void SendInitial(int count)
        {
            for (int i = 0; i < count; i++)
            {
                var session = IkeSession.CreateInitiator(InitiatorConfig(_local, _ports, _target));
                _sessions[session.InitiatorSpi] = session;
                session.Start();
                SendOutputs(session);
            }
        }

        private void SendOutputs(IkeSession session)
        {
            foreach (var o in session.TakeOutputs())
                if (o is SendDatagram d) _socket.SendTo(d.Data.Span, SocketFlags.None, _target);
        }

        /// <summary>Reads answers until <paramref name="expected"/> COOKIE notifies came (other answers are the started sessions' own).</summary>
        public async Task<int> ReceiveCookiesAsync(int expected, CancellationToken ct)
        {
            var buffer = new byte[4096];
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                while (_cookieAnswers.Count < expected)
                {
                    int n = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                    if (!IkeCodec.TryDecode(buffer.AsSpan(0, n).ToArray(), out var m, out _)) continue;
                    if (m.Payloads.Count == 1 && m.Payloads[0] is NotifyPayload { NotifyType: NotifyType.Cookie } && m.ResponderSpi == 0)
                        _cookieAnswers[m.InitiatorSpi] = buffer.AsSpan(0, n).ToArray();
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested) { }
            return _cookieAnswers.Count;
        }

        /// <summary>Each initiator that got a cookie retries with it (the engine does RFC 7296 2.6 itself); returns how many retried.</summary>
        public Task<int> ReturnCookiesAsync(CancellationToken ct)
        {
            int n = 0;
            foreach (var (spi, answer) in _cookieAnswers)
            {
                var session = _sessions[spi];
                session.HandleDatagram(answer);
                int before = n;
                foreach (var o in session.TakeOutputs())
                    if (o is SendDatagram d)
                    {
                        _socket.SendTo(d.Data.Span, SocketFlags.None, _target);
                        n += before == n ? 1 : 0;
                    }
            }
            return Task.FromResult(n);
        }

        public ValueTask DisposeAsync()
        {
            _socket.Dispose();
            _ports.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
