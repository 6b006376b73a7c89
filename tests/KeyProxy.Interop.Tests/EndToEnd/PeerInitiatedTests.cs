using System.Globalization;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Flow 2 (claim 3) end to end: a real charon in its namespace initiates IKE towards the address
/// the edge gave an attached handset; the edge sees an IKE_SA_INIT for a proxied handset, starts
/// a responder proxy session if the profile allows the responder role, and the handset gets the
/// SA by key transfer (no request of its own) and runs ESP with charon through it.
/// </summary>
public sealed class PeerInitiatedTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Charon_initiates_towards_the_handset_a_responder_session_delivers_the_sa_and_esp_echoes()
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        var (handset, events, attached) = await world.AttachAsync(Ct);
        // The handset's address is known now: charon initiates towards it on 500 (the edge's socket on that address).
        var charon = await world.StartCharonAsync(o => o with { RemoteAddress = attached.Address.ToString(), RemotePort = 500 }, Ct);
        try
        {
            await charon.InitiateAsync(timeout: TimeSpan.FromSeconds(15), ct: Ct);

            var installed = await events.WaitAsync<SaInstalled>(null, TimeSpan.FromSeconds(10), Ct);
            Assert.Equal(0u, installed.RequestId); // nobody asked: the peer did
            Assert.Equal(0u, installed.Replaces);
            Assert.Equal(0, installed.ReleasedPackets);
            Assert.Equal(world.Peer, installed.Peer);
            Assert.Empty(events.All<ProxyRequested>());

            // charon initiated this IKE SA, with the handset's address and identity on the other end, and has the handset's SPIs.
            var (ike, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi, ct: Ct);
            Assert.True(ike.IsInitiator);
            Assert.Equal(attached.Address.ToString(), ike.RemoteHost);
            Assert.Equal(ProxiedWorld.AliceIkeId, ike.RemoteId);
            Assert.Equal(installed.InboundSpi, child.SpiOut);
            // The proxy narrowed charon's remote selector (the whole pool) to the handset's address.
            Assert.Equal([attached.Address + "/32"], child.RemoteTs);
            Assert.Equal(1, world.Silo.Edge.Metrics.Packets(EdgePacketClass.KeyTransferToHandset));

            // The handset sends to charon's side through the SA at once (no proxy request, nothing held).
            for (int i = 0; i < 3; i++)
                await world.EchoAsync(handset, $"to the peer that called #{i}", Ct);
            // charon's counters can trail the echoes it already sent: wait for them, then check there is none too many.
            (_, child) = await charon.WaitForChildSaAsync(c => c.SpiIn == installed.OutboundSpi && c.PacketsIn >= 3, ct: Ct);
            Assert.Equal(3, child.PacketsIn);
            Assert.Empty(events.All<ProxyRequested>());
            Assert.Equal(0, world.Silo.Edge.Metrics.Drops(EdgeDropReason.ProxyRefused));
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    [Fact]
    public async Task Detaching_the_handset_closes_the_ike_sa_charon_started_and_ends_the_session()
    {
        await using var world = await ProxiedWorld.StartAsync(ct: Ct);
        var (handset, events, attached) = await world.AttachAsync(Ct);
        var charon = await world.StartCharonAsync(o => o with { RemoteAddress = attached.Address.ToString(), RemotePort = 500 }, Ct);
        try
        {
            await charon.InitiateAsync(timeout: TimeSpan.FromSeconds(15), ct: Ct);
            var installed = await events.WaitAsync<SaInstalled>(null, TimeSpan.FromSeconds(10), Ct);
            await world.EchoAsync(handset, "before the detach", Ct);
            var directory = world.Silo.Grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key);
            var session = Assert.Single(await directory.List(0, 10));
            Assert.Equal(ProxyRoles.Responder, session.Role);

            var clock = System.Diagnostics.Stopwatch.StartNew();
            handset.Detach();
            // Well inside the 5 s after which the subscriber gives up waiting for its sessions to close.
            var detached = await events.WaitAsync<Detached>(null, TimeSpan.FromSeconds(3), Ct);
            output.WriteLine($"detach acknowledged after {clock.Elapsed.TotalMilliseconds:F0} ms");
            Assert.True(detached.Acknowledged);
            // The proxy deletes the IKE SA charon started (flow 5: IKE SA closed when the handset detaches) ...
            await charon.WaitForNoIkeSaAsync(sa => sa.RemoteHost == attached.Address.ToString(), ct: Ct);
            // ... and the session ends: out of the directory, no routes left at the edge.
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while ((await directory.List(0, 10)).Count > 0 && DateTime.UtcNow < until) await Task.Delay(50, Ct);
            output.WriteLine($"session gone from the directory after {clock.Elapsed.TotalMilliseconds:F0} ms");
            Assert.Empty(await directory.List(0, 10));
            Assert.Equal(0, world.Silo.Edge.Routes);
            Assert.Empty(world.Silo.Edge.Attachments());
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }

    [Fact]
    public async Task Charon_initiating_towards_a_handset_whose_profile_allows_only_the_initiator_role_is_not_proxied()
    {
        await using var world = await ProxiedWorld.StartAsync(roles: ProxyRoles.Initiator, ct: Ct);
        var (_, events, attached) = await world.AttachAsync(Ct);
        var charon = await world.StartCharonAsync(o => o with { RemoteAddress = attached.Address.ToString(), RemotePort = 500 }, Ct);
        try
        {
            long grainCalls = world.Silo.Edge.Metrics.GrainCalls;
            var failed = await Assert.ThrowsAsync<StrongSwanException>(() => charon.InitiateAsync(timeout: TimeSpan.FromSeconds(3), ct: Ct));
            output.WriteLine("charon's initiate: " + failed.Message.Split('\n')[0]);

            // Every IKE_SA_INIT (the first and charon's retransmissions) was refused at the edge, without a grain call.
            Assert.True(world.Silo.Edge.Metrics.Drops(EdgeDropReason.ProxyRefused) >= 1);
            Assert.Equal(grainCalls, world.Silo.Edge.Metrics.GrainCalls);
            Assert.Equal(0, world.Silo.Edge.Routes);
            Assert.Equal(0, world.Silo.Edge.Metrics.Packets(EdgePacketClass.IkeToNetwork));
            Assert.Equal(0, world.Silo.Edge.Metrics.Packets(EdgePacketClass.KeyTransferToHandset));
            Assert.Empty(events.All<SaInstalled>());
            Assert.DoesNotContain(await charon.ListSasAsync(Ct), sa => sa.IsEstablished);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }
}
