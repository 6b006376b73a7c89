using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Flow 5 end to end, each step reaching the handset: CHILD_SA and IKE SA rekeys driven by the
/// proxy's lifetimes, rekey and delete of the CHILD_SA and delete of the IKE SA from charon's
/// side. The SA is first set up by flow 1 (or flow 2 where the role matters) against a real
/// charon in its namespace, and ESP echoes through whatever SA is current afterwards.
/// </summary>
public sealed class SaLifecycleTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    private static Dictionary<string, string> Network(string key, string value) => new() { ["KeyProxy:Network:" + key] = value };

    /// <summary>Starts charon as responder (flow 1) or, once the handset is attached, as initiator towards it (flow 2), and sets up the first SA.</summary>
    private static async Task<(UdpHandsetHost Handset, HandsetEventLog Events, SaInstalled First)> EstablishAsync(ProxiedWorld world, bool peerInitiated)
    {
        var (handset, events, attached) = await world.AttachAsync(Ct);
        if (!peerInitiated)
        {
            await world.StartCharonAsync(ct: Ct);
            return (handset, events, await world.EstablishFromHandsetAsync(handset, events, Ct));
        }
        var charon = await world.StartCharonAsync(o => o with { RemoteAddress = attached.Address.ToString(), RemotePort = 500 }, Ct);
        await charon.InitiateAsync(timeout: Wait, ct: Ct);
        var first = await events.WaitAsync<SaInstalled>(null, Wait, Ct);
        await world.EchoAsync(handset, "first through the peer's SA", Ct);
        return (handset, events, first);
    }

    [Fact]
    public async Task Proxy_rekeys_the_child_sa_at_its_soft_lifetime_and_the_handset_moves_to_the_new_sa()
    {
        await using var world = await ProxiedWorld.StartAsync(settings: Network("ChildRekeyAfter", "00:00:04"), ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            (var handset, events, var first) = await EstablishAsync(world, peerInitiated: false);
            var charon = world.Charon!;

            // The proxy's CREATE_CHILD_SA ends in a second key transfer that names the SA it replaces.
            var second = await events.WaitAsync<SaInstalled>(s => s.Replaces == first.InboundSpi, Wait, Ct);
            Assert.NotEqual(first.InboundSpi, second.InboundSpi);
            Assert.NotEqual(first.OutboundSpi, second.OutboundSpi);
            Assert.Equal(0u, second.RequestId);
            Assert.Equal(world.Peer, second.Peer);

            // charon has the new CHILD_SA with the handset's new SPIs, and the old one goes.
            var (_, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == second.OutboundSpi, ct: Ct);
            Assert.Equal(second.InboundSpi, child.SpiOut);
            await charon.WaitForNoChildSaAsync(c => c.SpiIn == first.OutboundSpi && c.IsInstalled, ct: Ct);
            // The handset drops the old pair (the proxy deleted it with charon and said so), after the new one is in.
            await events.WaitAsync<SaRemoved>(r => r.InboundSpi == first.InboundSpi, Wait, Ct);
            AssertMakeBeforeBreak(events, second, first);

            // ESP goes on with the new keys: charon counts packets on the new CHILD_SA.
            await world.EchoAsync(handset, "after the proxy's CHILD_SA rekey", Ct);
            var (_, current) = await charon.WaitForChildSaAsync(c => c.IsInstalled && c.SpiIn != first.OutboundSpi &&
                long.Parse(c.Raw.Value("packets-in") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > 0, ct: Ct);
            Assert.Contains(events.All<SaInstalled>(), s => s.OutboundSpi == current.SpiIn);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Proxy_rekeys_the_ike_sa_and_the_edge_routes_the_new_ike_sa_to_the_same_session(bool peerInitiated)
    {
        await using var world = await ProxiedWorld.StartAsync(settings: Network("IkeRekeyAfter", "00:00:04"), ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            (var handset, events, var first) = await EstablishAsync(world, peerInitiated);
            var charon = world.Charon!;
            var (original, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);
            int routes = world.Silo.Edge.Routes;

            // A new IKE SA (new SPIs both ways, initiated by the proxy) carries the CHILD_SA on; the old one is deleted.
            var rekeyed = await charon.WaitForIkeSaAsync(s => s.IsEstablished && s.UniqueId != original.UniqueId, ct: Ct);
            Assert.NotEqual(original.InitiatorSpi, rekeyed.InitiatorSpi);
            Assert.NotEqual(original.ResponderSpi, rekeyed.ResponderSpi);
            Assert.False(rekeyed.IsInitiator); // the proxy initiated the rekey
            await charon.WaitForNoIkeSaAsync(s => s.UniqueId == original.UniqueId, ct: Ct);
            var (carrier, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);
            Assert.NotEqual(original.UniqueId, carrier.UniqueId);
            Assert.Equal(first.InboundSpi, child.SpiOut);
            Assert.True(world.Silo.Edge.Routes > routes, "the edge has a route for the new IKE SA's initiator SPI");
            Assert.Equal(0, world.Silo.Edge.Metrics.Drops(EdgeDropReason.NoRoute));
            await WaitForListedIkeSaAsync(world, rekeyed);

            // The CHILD_SA is untouched: no key transfer, ESP as before.
            await world.EchoAsync(handset, "after the proxy's IKE SA rekey", Ct);
            Assert.Single(events.All<SaInstalled>());
            Assert.Empty(events.All<SaRemoved>());

            // IKE on the new IKE SA from charon reaches the same session: a CHILD_SA rekey by charon becomes a key transfer.
            var (current, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);
            var fresh = await charon.RekeyChildAsync(timeout: Wait, ct: Ct);
            var second = await events.WaitAsync<SaInstalled>(s => s.Replaces == first.InboundSpi, Wait, Ct);
            Assert.Equal(fresh.SpiIn, second.OutboundSpi);
            output.WriteLine($"IKE SA {original.InitiatorSpi:x16}/{original.ResponderSpi:x16} -> {rekeyed.InitiatorSpi:x16}/{rekeyed.ResponderSpi:x16}; " +
                $"charon's CHILD_SA rekey went over IKE SA {current.InitiatorSpi:x16}/{current.ResponderSpi:x16}");
            await world.EchoAsync(handset, "after charon's CHILD_SA rekey on the rekeyed IKE SA", Ct);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Charon_rekeys_the_ike_sa_and_the_session_goes_on_over_the_new_one(bool peerInitiated)
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            (var handset, events, var first) = await EstablishAsync(world, peerInitiated);
            var charon = world.Charon!;
            var (original, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);

            // charon's CREATE_CHILD_SA for the IKE SA: the proxy answers, the CHILD_SA moves over, the old IKE SA goes.
            var rekeyed = await charon.RekeyIkeAsync(timeout: Wait, ct: Ct);
            Assert.True(rekeyed.IsInitiator);
            Assert.NotEqual(original.InitiatorSpi, rekeyed.InitiatorSpi);
            await charon.WaitForNoIkeSaAsync(s => s.UniqueId == original.UniqueId, ct: Ct);
            var (carrier, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);
            Assert.Equal(rekeyed.UniqueId, carrier.UniqueId);
            await WaitForListedIkeSaAsync(world, rekeyed);
            await world.EchoAsync(handset, "after charon's IKE SA rekey", Ct);
            Assert.Single(events.All<SaInstalled>());
            Assert.Empty(events.All<SaRemoved>());

            // The new IKE SA (charon's new SPIi) reaches the same session: charon's CHILD_SA rekey over it becomes a key transfer.
            var fresh = await charon.RekeyChildAsync(timeout: Wait, ct: Ct);
            var second = await events.WaitAsync<SaInstalled>(s => s.Replaces == first.InboundSpi, Wait, Ct);
            Assert.Equal(fresh.SpiIn, second.OutboundSpi);
            await world.EchoAsync(handset, "after charon's CHILD_SA rekey on the rekeyed IKE SA", Ct);
            Assert.Equal(0, world.Silo.Edge.Metrics.Drops(EdgeDropReason.NoRoute));
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    /// <summary>
    /// charon's CHILD_SA rekey queued behind its IKE SA rekey goes out on the new IKE SA as soon as
    /// that is in: the edge must route the new initiator SPI to the session by then, or it drops
    /// the request (and charon only gets through with a retransmission).
    /// </summary>
    [Fact]
    public async Task Charon_rekeys_the_child_sa_right_behind_its_ike_sa_rekey_without_a_drop_at_the_edge()
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            (var handset, events, var first) = await EstablishAsync(world, peerInitiated: true);
            var charon = world.Charon!;
            var (original, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);

            var ikeRekey = charon.RekeyIkeAsync(timeout: Wait, ct: Ct);
            var childRekey = RekeyChildWhileIkeRekeysAsync(charon);
            var rekeyed = await ikeRekey;
            var fresh = await childRekey;
            var second = await events.WaitAsync<SaInstalled>(s => s.Replaces == first.InboundSpi, Wait, Ct);
            Assert.Equal(fresh.SpiIn, second.OutboundSpi);
            var (carrier, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == second.OutboundSpi, ct: Ct);
            output.WriteLine($"IKE SA {original.UniqueId} -> {rekeyed.UniqueId}; the new CHILD_SA is on IKE SA {carrier.UniqueId}");
            await world.EchoAsync(handset, "after both rekeys", Ct);
            Assert.Equal(0, world.Silo.Edge.Metrics.Drops(EdgeDropReason.NoRoute));
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    /// <summary>
    /// Liveness (RFC 7296 2.4), one side at a time (each side's check counts as traffic for the
    /// other, so with both on only the quicker one ever fires): the proxy's empty INFORMATIONAL
    /// reaches charon from the handset's address; charon's reaches the session through the edge
    /// and the proxy's answer gets back to charon.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Liveness_checks_pass_through_the_edge(bool proxyChecks)
    {
        await using var world = await ProxiedWorld.StartAsync(settings: proxyChecks ? Network("LivenessInterval", "00:00:02") : null, ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            var (handset, log, attached) = await world.AttachAsync(Ct);
            events = log;
            await world.StartCharonAsync(o => proxyChecks ? o : o with { DpdDelay = TimeSpan.FromSeconds(2) }, Ct);
            var first = await world.EstablishFromHandsetAsync(handset, events, Ct);
            var charon = world.Charon!;

            // charon logs the empty INFORMATIONAL it received (the proxy's check) or the answer to its own.
            await charon.WaitForLogAsync(proxyChecks ? @"parsed INFORMATIONAL request \d+ \[ \]" : @"parsed INFORMATIONAL response \d+ \[ \]", Wait, Ct);
            var (ike, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);
            Assert.Equal(attached.Address.ToString(), ike.RemoteHost);
            await world.EchoAsync(handset, "after the liveness check", Ct);
            Assert.Empty(events.All<SaRemoved>());
            Assert.Equal(0, world.Silo.Edge.Metrics.Drops(EdgeDropReason.NoRoute));
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Charon_rekeys_then_deletes_the_child_sa_and_each_reaches_the_handset(bool peerInitiated)
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            (var handset, events, var first) = await EstablishAsync(world, peerInitiated);
            var charon = world.Charon!;

            // charon's CREATE_CHILD_SA: the proxy answers as the handset and hands over the new SA.
            var fresh = await charon.RekeyChildAsync(timeout: Wait, ct: Ct);
            var second = await events.WaitAsync<SaInstalled>(s => s.Replaces == first.InboundSpi, Wait, Ct);
            Assert.Equal(fresh.SpiIn, second.OutboundSpi);
            Assert.Equal(fresh.SpiOut, second.InboundSpi);
            Assert.Equal(0u, second.RequestId);
            // charon deletes the old CHILD_SA after its rekey; the handset drops the old pair.
            await events.WaitAsync<SaRemoved>(r => r.InboundSpi == first.InboundSpi, Wait, Ct);
            AssertMakeBeforeBreak(events, second, first);
            await world.EchoAsync(handset, "after charon's CHILD_SA rekey", Ct);

            // charon deletes the CHILD_SA (INFORMATIONAL DELETE): the handset removes it, the IKE SA stays.
            await charon.SwanctlAsync(["--terminate", "--child", charon.ChildName, "--timeout", "10"], Ct);
            var removed = await events.WaitAsync<SaRemoved>(r => r.InboundSpi == second.InboundSpi, Wait, Ct);
            Assert.Equal(SaRemovalReason.DeletedByNetwork, removed.Reason);
            Assert.Equal(second.OutboundSpi, removed.OutboundSpi);
            var ike = await charon.WaitForIkeSaAsync(s => s.IsEstablished && !s.Children.Any(c => c.IsInstalled), ct: Ct);
            Assert.Equal(handset.Address!.ToString(), ike.RemoteHost);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    /// <summary>
    /// RFC 7296 1.3.1: once charon deleted the only CHILD_SA, the IKE SA still lives; the handset's next datagram gets
    /// its CHILD_SA by CREATE_CHILD_SA on that IKE SA, not by a second IKE SA beside the childless one.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task After_charon_deletes_only_the_child_sa_the_next_datagram_gets_a_child_sa_on_the_live_ike_sa(bool peerInitiated)
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            (var handset, events, var first) = await EstablishAsync(world, peerInitiated);
            var charon = world.Charon!;
            var (original, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == first.OutboundSpi, ct: Ct);

            await charon.TerminateChildAsync(timeout: Wait, ct: Ct);
            await events.WaitAsync<SaRemoved>(r => r.InboundSpi == first.InboundSpi, Wait, Ct);

            var earlier = events.All<ProxyRequested>();
            Assert.Equal(HandsetPacketStatus.Held, handset.Send(Proxied.Udp(handset.Address!, 40000, world.Peer, 7, "after the CHILD_SA delete")).Status);
            var request = await events.WaitAsync<ProxyRequested>(r => !earlier.Contains(r), Wait, Ct);
            var again = await events.WaitAsync<SaInstalled>(s => s.RequestId == request.RequestId, Wait, Ct);
            Assert.Equal(1, again.ReleasedPackets);
            var (carrier, _) = await charon.WaitForChildSaAsync(c => c.SpiIn == again.OutboundSpi, ct: Ct);
            Assert.Equal(original.UniqueId, carrier.UniqueId);
            var ikeSas = await charon.ListSasAsync(Ct);
            Assert.True(ikeSas.Count == 1, "charon has one IKE SA with the handset: " + string.Join("; ", ikeSas));
            await world.EchoAsync(handset, "through the CHILD_SA on the same IKE SA", Ct);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Charon_deletes_the_ike_sa_and_the_handset_loses_its_sas(bool peerInitiated)
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        HandsetEventLog? events = null;
        try
        {
            (var handset, events, var first) = await EstablishAsync(world, peerInitiated);
            var charon = world.Charon!;
            // A second pair on the same IKE SA first, so the delete has two to take down.
            await charon.RekeyChildAsync(timeout: Wait, ct: Ct);
            var second = await events.WaitAsync<SaInstalled>(s => s.Replaces == first.InboundSpi, Wait, Ct);

            await charon.SwanctlAsync(["--terminate", "--ike", charon.ConnectionName, "--timeout", "10"], Ct);
            await charon.WaitForNoIkeSaAsync(ct: Ct);

            var removed = await events.WaitAsync<SaRemoved>(r => r.InboundSpi == second.InboundSpi, Wait, Ct);
            Assert.Equal(SaRemovalReason.DeletedByNetwork, removed.Reason);
            await events.WaitAsync<SaRemoved>(r => r.InboundSpi == first.InboundSpi, Wait, Ct);
            // The session is over: its routes at the edge are gone.
            await WaitUntilAsync(() => world.Silo.Edge.Routes == 0, "the edge drops the session's IKE routes");

            // Traffic to the peer needs an SA again: the handset asks the proxy, which negotiates a new IKE SA with charon.
            var earlier = events.All<ProxyRequested>();
            Assert.Equal(HandsetPacketStatus.Held, handset.Send(Proxied.Udp(handset.Address!, 40000, world.Peer, 7, "after the IKE SA is gone")).Status);
            var request = await events.WaitAsync<ProxyRequested>(r => !earlier.Contains(r), Wait, Ct);
            var again = await events.WaitAsync<SaInstalled>(s => s.RequestId == request.RequestId, Wait, Ct);
            Assert.Equal(1, again.ReleasedPackets);
            await charon.WaitForChildSaAsync(c => c.SpiIn == again.OutboundSpi, ct: Ct);
            await world.EchoAsync(handset, "through the new IKE SA", Ct);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    /// <summary>charon's CHILD_SA rekey while its IKE SA rekeys: in the moment the CHILD_SA moves to the new IKE SA charon finds none to rekey, and is asked again.</summary>
    private static async Task<ChildSa> RekeyChildWhileIkeRekeysAsync(StrongSwanPeer charon)
    {
        for (int attempt = 1; ; attempt++)
        {
            try { return await charon.RekeyChildAsync(timeout: Wait, ct: Ct); }
            catch (StrongSwanException e) when (attempt < 20 && e.Message.Contains("no matching SAs to rekey", StringComparison.Ordinal))
            {
                await Task.Delay(20, Ct);
            }
        }
    }

    /// <summary>GET /api/sessions lists the one session with the SPIs of <paramref name="live"/>, charon's current IKE SA.</summary>
    private static async Task WaitForListedIkeSaAsync(ProxiedWorld world, IkeSa live)
    {
        var expected = $"{live.InitiatorSpi:x16}/{live.ResponderSpi:x16}";
        using var http = KeyProxy.Testing.AdminHttp.Client(new Uri(world.Silo.BaseUrl));
        var until = DateTime.UtcNow + Wait;
        string listed;
        do
        {
            using var sessions = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("/api/sessions", Ct));
            listed = string.Join(", ", sessions.RootElement.EnumerateArray().Select(s => s.GetProperty("ikeSpis").GetString()));
            if (listed == expected) return;
            await Task.Delay(100, Ct);
        }
        while (DateTime.UtcNow < until);
        Assert.Fail($"/api/sessions lists IKE SAs [{listed}], not the live one {expected}");
    }

    /// <summary>The replacement was installed before the pair it replaces was removed: no moment without an SA.</summary>
    private static void AssertMakeBeforeBreak(HandsetEventLog events, SaInstalled replacement, SaInstalled replaced)
    {
        var all = events.Snapshot();
        int installed = all.ToList().FindIndex(e => e is SaInstalled i && i.InboundSpi == replacement.InboundSpi);
        int removed = all.ToList().FindIndex(e => e is SaRemoved r && r.InboundSpi == replaced.InboundSpi);
        Assert.True(installed >= 0 && removed > installed, $"the new SA is installed before the old one is removed:\n{events}");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var until = DateTime.UtcNow + Wait;
        while (!condition())
        {
            if (DateTime.UtcNow > until) throw new TimeoutException("timed out waiting until " + what);
            await Task.Delay(50, Ct);
        }
    }
}
