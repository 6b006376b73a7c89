using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Issue 8, IKE floods for many handsets at once: 100 attached handsets with the responder proxy service on one edge,
/// flooded with IKE_SA_INITs from 12 source addresses on loopback (no charon). Wave 1: raw datagrams that never return
/// a cookie; wave 2: our own engine as initiators that do. Every datagram is counted by reason, the half-open table
/// and the route table stay within the configured caps, and once the half-open timeouts (edge and engine, short here)
/// pass, no proxy session activation and no route is left. The managed heap of this process (which hosts the edge
/// silo) is measured before, at the peak and after: the test runs alone (its collection is not parallel with the
/// others), so that heap is this edge's and the test's, not the other tests' silos.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class ManyHandsetFloodTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const int Handsets = 100;
    private const int Sources = 12;
    private const int CookieThreshold = 16, MaxHalfOpen = 64, MaxHalfOpenPerPeer = 6;

    private static readonly EdgeDropReason[] IkeReasons =
    [
        EdgeDropReason.CookieDemanded, EdgeDropReason.CookieRateLimited, EdgeDropReason.HalfOpenLimit,
        EdgeDropReason.HalfOpenPeerLimit, EdgeDropReason.NoRoute, EdgeDropReason.Malformed, EdgeDropReason.ProxyRefused,
    ];

    [Fact]
    public async Task Floods_at_a_hundred_handsets_are_counted_stay_within_the_caps_and_leave_no_session_or_route_behind()
    {
        var settings = new Dictionary<string, string>
        {
            ["KeyProxy:Edge:CookieThreshold"] = $"{CookieThreshold}",
            ["KeyProxy:Edge:MaxHalfOpen"] = $"{MaxHalfOpen}",
            ["KeyProxy:Edge:MaxHalfOpenPerPeer"] = $"{MaxHalfOpenPerPeer}",
            ["KeyProxy:Network:HalfOpenTimeout"] = "00:00:10",
        };
        await using var silo = await EdgeSilo.StartAsync("edge-many-flood", "127.0.76.0/24", settings: settings, ct: Ct);
        var handsets = new List<UdpHandsetHost>();
        var targets = new List<IPEndPoint>();
        var floods = new List<RawSource>();
        try
        {
            var clock = Stopwatch.StartNew();
            for (int i = 0; i < Handsets; i++)
            {
                var nai = $"many-flood-{i}@keyproxy.test";
                await silo.ProvisionAsync(Proxied.Subscriber(nai, "127.0.0.0/24", roles: ProxyRoles.Responder));
                var h = Proxied.Handset(nai, silo.AccessEndPoint, "127.0.0.0/24");
                handsets.Add(h);
                h.Attach();
            }
            foreach (var h in handsets) targets.Add(new IPEndPoint((await h.WaitForAsync<Attached>(TimeSpan.FromSeconds(30), Ct)).Address, 500));
            var attachedIn = clock.Elapsed;
            long heapBefore = GC.GetTotalMemory(forceFullCollection: true);
            var metrics = silo.Edge.Metrics;
            for (int s = 0; s < Sources; s++) floods.Add(new RawSource(IPAddress.Parse($"127.0.0.{31 + s}")));

            // Wave 1: 3 raw IKE_SA_INITs (fresh SPIs) from every source to every handset, never returning a cookie.
            var template = InitialMessage(floods[0].Address, targets[0]);
            clock.Restart();
            int wave1 = 0;
            for (int round = 0; round < 3; round++)
                foreach (var target in targets)
                    foreach (var f in floods)
                    {
                        f.SendWithFreshSpi(template, target);
                        wave1++;
                    }
            await Eventually(() => metrics.Packets(EdgePacketClass.IkeFromNetwork) == wave1, "every wave-1 datagram classified");
            var wave1Time = clock.Elapsed;
            long started1 = wave1 - Dropped(metrics);
            await EventuallyAsync(async () => await SessionLeaseTests.ProxySessionActivationsAsync(silo) == started1, "one activation per started session");
            var (halfOpen1, routes1) = (silo.Edge.HalfOpen, silo.Edge.Routes);
            output.WriteLine($"wave 1: {wave1} raw IKE_SA_INITs at {Handsets} handsets from {Sources} addresses in {wave1Time.TotalMilliseconds:F0} ms; " +
                $"drops {Drops(metrics)}; sessions started {started1}; half-open {halfOpen1}; routes {routes1}; activations {started1}");
            Assert.Equal(CookieThreshold, started1); // no cookie came back: nothing above the threshold starts
            Assert.Equal(wave1 - CookieThreshold, metrics.Drops(EdgeDropReason.CookieDemanded) + metrics.Drops(EdgeDropReason.CookieRateLimited));
            Assert.InRange(halfOpen1, 0, CookieThreshold);
            Assert.InRange(routes1, 0, MaxHalfOpen);

            var expiry = Stopwatch.StartNew();
            await WaitForNothingLeftAsync(silo);
            var expired1 = expiry.Elapsed;
            output.WriteLine($"wave 1 left nothing after {expired1.TotalMilliseconds:F0} ms (half-open timeouts 10 s at the edge and in the engine)");

            foreach (var f in floods) f.Drain(); // wave 1's answers: room in the sockets' buffers for wave 2's

            // Wave 2: our engine as one initiator per (source, handset); each returns the cookie it gets.
            long ikeBefore = metrics.Packets(EdgePacketClass.IkeFromNetwork), droppedBefore = Dropped(metrics);
            long demandedBefore = metrics.Drops(EdgeDropReason.CookieDemanded);
            var initiators = new List<EngineSource>();
            foreach (var f in floods) initiators.Add(new EngineSource(f, targets));
            clock.Restart();
            foreach (var e in initiators) e.SendInitial();
            int wave2 = Handsets * Sources;
            await Eventually(() => metrics.Packets(EdgePacketClass.IkeFromNetwork) - ikeBefore == wave2, "every wave-2 IKE_SA_INIT classified");
            long demanded = metrics.Drops(EdgeDropReason.CookieDemanded) - demandedBefore;
            int cookies = (await Task.WhenAll(initiators.Select(e => e.ReceiveCookiesAsync(Ct)))).Sum();
            Assert.Equal(demanded, cookies);
            int returned = 0;
            foreach (var e in initiators) returned += e.ReturnCookies();
            await Eventually(() => metrics.Packets(EdgePacketClass.IkeFromNetwork) - ikeBefore == wave2 + returned, "every returned cookie classified");
            var wave2Time = clock.Elapsed;
            long sent2 = wave2 + returned;
            long started2 = sent2 - (Dropped(metrics) - droppedBefore);
            await EventuallyAsync(async () => await SessionLeaseTests.ProxySessionActivationsAsync(silo) == started2, "one activation per started session");
            var (halfOpen2, routes2) = (silo.Edge.HalfOpen, silo.Edge.Routes);
            long heapPeak = GC.GetTotalMemory(forceFullCollection: true);
            output.WriteLine($"wave 2: {wave2} IKE_SA_INITs from our engine, {cookies} COOKIE answers, {returned} returned with the cookie, in {wave2Time.TotalMilliseconds:F0} ms; " +
                $"drops {Drops(metrics)} (totals of both waves); sessions started {started2}; half-open {halfOpen2} (cap {MaxHalfOpen}, per peer {MaxHalfOpenPerPeer}); routes {routes2}");
            Assert.Equal(MaxHalfOpen, started2); // 12 peers x 6 would be 72: the edge cap binds first
            Assert.InRange(halfOpen2, 0, MaxHalfOpen);
            Assert.InRange(routes2, 0, MaxHalfOpen);
            Assert.True(metrics.Drops(EdgeDropReason.HalfOpenLimit) > 0, "the edge cap was reached");
            Assert.True(metrics.Drops(EdgeDropReason.HalfOpenPeerLimit) > 0, "per-peer caps were reached");
            Assert.Equal(0, metrics.Drops(EdgeDropReason.Malformed) + metrics.Drops(EdgeDropReason.NoRoute) + metrics.Drops(EdgeDropReason.ProxyRefused));

            expiry.Restart();
            await WaitForNothingLeftAsync(silo);
            var expired2 = expiry.Elapsed;
            foreach (var e in initiators) e.Forget();
            initiators.Clear();
            long heapAfter = GC.GetTotalMemory(forceFullCollection: true);
            output.WriteLine($"wave 2 left nothing after {expired2.TotalMilliseconds:F0} ms; {wave1 + sent2} datagrams in all, every one counted: " +
                $"{CookieThreshold + started2} started a session, {Dropped(metrics)} dropped by reason");
            output.WriteLine($"managed heap of this process (edge silo, {Handsets} handsets, test): {heapBefore / 1024} KiB after {Handsets} attaches ({attachedIn.TotalMilliseconds:F0} ms), " +
                $"{heapPeak / 1024} KiB at the wave-2 peak ({started2} sessions, {routes2} routes, {wave2} engine initiators of the test alive), {heapAfter / 1024} KiB after the half-open timeouts");
            Assert.Equal(wave1 + sent2, CookieThreshold + started2 + Dropped(metrics));
            // Nothing grows with the flood once it is over: within 16 MiB of the heap before it (the whole process).
            Assert.InRange(heapAfter - heapBefore, long.MinValue, 16L << 20);
            Assert.Equal(Handsets, silo.Edge.Attachments().Count);
        }
        finally
        {
            foreach (var f in floods) f.Dispose();
            foreach (var h in handsets) await h.DisposeAsync();
        }
    }

    private static long Dropped(EdgeMetrics metrics)
    {
        long n = 0;
        foreach (var r in IkeReasons) n += metrics.Drops(r);
        return n;
    }

    private static string Drops(EdgeMetrics metrics) =>
        string.Join(", ", IkeReasons.Where(r => metrics.Drops(r) > 0).Select(r => $"{r} {metrics.Drops(r)}"));

    private static async Task WaitForNothingLeftAsync(EdgeSilo silo)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int activations = await SessionLeaseTests.ProxySessionActivationsAsync(silo);
            if (activations == 0 && silo.Edge.Routes == 0 && silo.Edge.HalfOpen == 0) return;
            if (clock.Elapsed > TimeSpan.FromSeconds(40))
                throw new TimeoutException($"left after 40 s: {activations} activations, {silo.Edge.Routes} routes, {silo.Edge.HalfOpen} half-open");
            await Task.Delay(200, Ct);
        }
    }

    /// <summary>One IKE_SA_INIT request from our engine (its SPI is replaced per datagram).</summary>
    private static byte[] InitialMessage(IPAddress source, IPEndPoint target)
    {
        using var ports = PortAllocator.AllocateBlock(2);
        var session = IkeSession.CreateInitiator(IkeFloodTests.InitiatorConfig(source, ports, target));
        session.Start();
        foreach (var o in session.TakeOutputs())
            if (o is SendDatagram d) return d.Data.ToArray();
        throw new InvalidOperationException("the engine sent no IKE_SA_INIT");
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException("not reached in 20 s: " + what);
            await Task.Delay(20, Ct);
        }
    }

    private static Task EventuallyAsync(Func<Task<bool>> condition, string what) => SessionLeaseTests.EventuallyAsync(condition, TimeSpan.FromSeconds(20), what);

    /// <summary>One source address with one UDP socket.</summary>
    private sealed class RawSource : IDisposable
    {
        private readonly PortLease _ports = PortAllocator.AllocateBlock(2);

        public RawSource(IPAddress address)
        {
            Address = address;
            Socket.Bind(new IPEndPoint(address, _ports[0]));
        }

        public IPAddress Address { get; }

        public PortLease Ports => _ports;

        public Socket Socket { get; } = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);

        /// <summary>The template with a new random initiator SPI (RFC 7296 3.1: the first 8 bytes of the header).</summary>
        public void SendWithFreshSpi(byte[] template, IPEndPoint target)
        {
            Span<byte> message = stackalloc byte[template.Length];
            template.CopyTo(message);
            RandomNumberGenerator.Fill(message[..8]);
            Socket.SendTo(message, SocketFlags.None, target);
        }

        /// <summary>Throws away whatever was received so far.</summary>
        public void Drain()
        {
            var buffer = new byte[4096];
            while (Socket.Available > 0) Socket.Receive(buffer);
        }

        public void Dispose()
        {
            Socket.Dispose();
            _ports.Dispose();
        }
    }

    /// <summary>One initiator of our engine per handset, all behind one source's socket; they return the cookies they get.</summary>
    private sealed class EngineSource(RawSource source, IReadOnlyList<IPEndPoint> targets)
    {
        private readonly Dictionary<ulong, (IkeSession Session, IPEndPoint Target)> _sessions = [];
        private readonly Dictionary<ulong, byte[]> _cookies = [];

        public void SendInitial()
        {
            foreach (var target in targets)
            {
                var session = IkeSession.CreateInitiator(IkeFloodTests.InitiatorConfig(source.Address, source.Ports, target));
                _sessions[session.InitiatorSpi] = (session, target);
                session.Start();
                foreach (var o in session.TakeOutputs())
                    if (o is SendDatagram d) source.Socket.SendTo(d.Data.Span, SocketFlags.None, target);
            }
        }

        /// <summary>Reads answers until 300 ms pass without one; returns the COOKIE answers.</summary>
        public async Task<int> ReceiveCookiesAsync(CancellationToken ct)
        {
            var buffer = new byte[4096];
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
                quiet.CancelAfter(TimeSpan.FromMilliseconds(300));
                int n;
                try { n = await source.Socket.ReceiveAsync(buffer, SocketFlags.None, quiet.Token); }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested) { return _cookies.Count; }
                if (!IkeCodec.TryDecode(buffer.AsSpan(0, n).ToArray(), out var m, out _)) continue;
                // (wave 1's answers wait in the same socket: only this wave's initiators count)
                if (m.ResponderSpi == 0 && m.Payloads.Count == 1 && m.Payloads[0] is NotifyPayload { NotifyType: NotifyType.Cookie } && _sessions.ContainsKey(m.InitiatorSpi))
                    _cookies[m.InitiatorSpi] = buffer.AsSpan(0, n).ToArray();
            }
        }

        public int ReturnCookies()
        {
            int n = 0;
            foreach (var (spi, answer) in _cookies)
            {
                var (session, target) = _sessions[spi];
                session.HandleDatagram(answer);
                foreach (var o in session.TakeOutputs())
                    if (o is SendDatagram d)
                    {
                        source.Socket.SendTo(d.Data.Span, SocketFlags.None, target);
                        n++;
                        break;
                    }
            }
            return n;
        }

        public void Forget()
        {
            _sessions.Clear();
            _cookies.Clear();
        }
    }
}
