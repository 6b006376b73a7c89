using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Handset;
using KeyProxy.Handset.Cli;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Flow 3 (seed claims 4-6), both sides proxied: two edge silos in one cluster, alice's handset on
/// edge A and bob's on edge B, each subscriber with the proxy service for the other's pool. alice's
/// first packet to bob makes her proxy session (initiator) run IKE through edge A to bob's address,
/// which edge B owns: B sees an IKE_SA_INIT for a proxied handset and starts bob's responder
/// session. Neither handset does IKE; both get their half of one CHILD_SA by key transfer and ESP
/// crosses both edges without a grain call. No charon: the pools are loopback addresses.
/// </summary>
public sealed class BothSidesProxiedTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string Alice = "alice@keyproxy.test";
    private const string Bob = "bob@keyproxy.test";
    private const string PoolA = "127.0.151.0/24";
    private const string PoolB = "127.0.152.0/24";

    [Fact]
    public async Task Two_proxy_sessions_negotiate_through_two_edges_and_both_handsets_get_mirrored_sas_then_esp_both_ways_without_grain_calls()
    {
        await using var edgeA = await EdgeSilo.StartAsync("edge-a", PoolA, ct: Ct);
        await using var edgeB = await EdgeSilo.StartAsync("edge-b", PoolB, primary: edgeA, ct: Ct);
        await edgeA.ProvisionAsync(Proxied.Subscriber(Alice, PoolB));
        await edgeA.ProvisionAsync(Proxied.Subscriber(Bob, PoolA));
        await using var alice = Proxied.Handset(Alice, edgeA.AccessEndPoint, PoolB);
        await using var bob = Proxied.Handset(Bob, edgeB.AccessEndPoint, PoolA);
        try
        {
            alice.Attach();
            bob.Attach();
            var aliceAddress = (await alice.WaitForAsync<Attached>(Wait, Ct)).Address;
            var bobAddress = (await bob.WaitForAsync<Attached>(Wait, Ct)).Address;
            Assert.True(IPNetworkContains(PoolA, aliceAddress), $"alice got {aliceAddress}, not from edge A's pool");
            Assert.True(IPNetworkContains(PoolB, bobAddress), $"bob got {bobAddress}, not from edge B's pool");
            Assert.Contains(edgeA.Edge.Attachments(), b => b.Nai == Alice && b.HandsetAddress == aliceAddress.ToString());
            Assert.Contains(edgeB.Edge.Attachments(), b => b.Nai == Bob && b.HandsetAddress == bobAddress.ToString());

            // alice protects bob's pool and has no SA: the packet is held and a proxy request goes out.
            Assert.Equal(HandsetPacketStatus.Held, alice.Send(Proxied.Udp(aliceAddress, 40000, bobAddress, 7, "hello bob, held first")).Status);
            var aliceSa = await alice.WaitForAsync<SaInstalled>(Wait, Ct);
            var bobSa = await bob.WaitForAsync<SaInstalled>(Wait, Ct);
            output.WriteLine($"alice: in 0x{aliceSa.InboundSpi:x8} out 0x{aliceSa.OutboundSpi:x8} peer {aliceSa.Peer} request {aliceSa.RequestId}; " +
                $"bob: in 0x{bobSa.InboundSpi:x8} out 0x{bobSa.OutboundSpi:x8} peer {bobSa.Peer} request {bobSa.RequestId}");

            // alice's SA answers her request (initiator); bob's came unasked (responder, claim 5).
            Assert.NotEqual(0u, aliceSa.RequestId);
            Assert.Equal(0u, bobSa.RequestId);
            Assert.Equal(1, aliceSa.ReleasedPackets);
            Assert.Equal(0, bobSa.ReleasedPackets);
            Assert.Equal(bobAddress, aliceSa.Peer);
            Assert.Equal(aliceAddress, bobSa.Peer);
            // One CHILD_SA, two halves: what alice sends with, bob receives with, and the other way round.
            Assert.Equal(aliceSa.InboundSpi, bobSa.OutboundSpi);
            Assert.Equal(aliceSa.OutboundSpi, bobSa.InboundSpi);
            Assert.Equal(aliceSa.Suite, bobSa.Suite);

            // Two proxy sessions, one IKE SA: alice's initiator serving edge A, bob's responder that
            // edge B started for the IKE_SA_INIT arriving at bob's address (no proxy request at B).
            // A session registers right after its key transfer went out: the handset may be a moment ahead.
            var directory = edgeB.Grains.GetGrain<ISessionDirectoryGrain>(ISessionDirectoryGrain.Key);
            var sessions = await directory.List(0, 10);
            for (var deadline = DateTime.UtcNow.AddSeconds(10); sessions.Count < 2 && DateTime.UtcNow < deadline; sessions = await directory.List(0, 10))
                await Task.Delay(50, Ct);
            Assert.Equal(2, sessions.Count);
            var initiator = Assert.Single(sessions, s => s.Nai == Alice);
            var responder = Assert.Single(sessions, s => s.Nai == Bob);
            Assert.Equal((ProxyRoles.Initiator, edgeA.EdgeId, bobAddress.ToString()), (initiator.Role, initiator.EdgeId, initiator.PeerAddress));
            Assert.Equal((ProxyRoles.Responder, edgeB.EdgeId, aliceAddress.ToString()), (responder.Role, responder.EdgeId, responder.PeerAddress));
            Assert.Equal(initiator.IkeSpis, responder.IkeSpis);
            Assert.Equal(0, edgeB.Edge.Metrics.Packets(EdgePacketClass.ProxyRequest));
            Assert.True(edgeB.Edge.Metrics.Packets(EdgePacketClass.IkeFromNetwork) >= 2, "IKE_SA_INIT and IKE_AUTH reached edge B");

            // The held packet, released as ESP, crossed edge A and edge B and reached bob decrypted.
            var first = await Proxied.NextDeliveredAsync(bob, Wait, Ct);
            Assert.Equal("hello bob, held first", Proxied.Text(first));
            AssertAddresses(first, aliceAddress, bobAddress);

            // ESP both ways: the edges route it from their local profile copies, no grain call anywhere.
            long callsA = edgeA.Edge.Metrics.GrainCalls, callsB = edgeB.Edge.Metrics.GrainCalls;
            long routedA = edgeA.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork), routedB = edgeB.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal(HandsetPacketStatus.Ok, alice.Send(Proxied.Udp(aliceAddress, 40000, bobAddress, 7, $"alice to bob #{i}")).Status);
                var atBob = await Proxied.NextDeliveredAsync(bob, Wait, Ct);
                Assert.Equal($"alice to bob #{i}", Proxied.Text(atBob));
                AssertAddresses(atBob, aliceAddress, bobAddress);

                // bob answers alice's address: his SPD protects alice's pool and the key transfer gave him the SA.
                Assert.Equal(HandsetPacketStatus.Ok, bob.Send(Proxied.Udp(bobAddress, 7, aliceAddress, 40000, $"bob to alice #{i}")).Status);
                var atAlice = await Proxied.NextDeliveredAsync(alice, Wait, Ct);
                Assert.Equal($"bob to alice #{i}", Proxied.Text(atAlice));
                AssertAddresses(atAlice, bobAddress, aliceAddress);
            }
            Assert.Equal(callsA, edgeA.Edge.Metrics.GrainCalls);
            Assert.Equal(callsB, edgeB.Edge.Metrics.GrainCalls);
            Assert.Equal(routedA + 3, edgeA.Edge.Metrics.Packets(EdgePacketClass.RoutedToNetwork));
            Assert.Equal(routedB + 3, edgeB.Edge.Metrics.Packets(EdgePacketClass.RoutedToHandset));
            Assert.Equal(0, alice.Counters.DroppedDecrypt);
            Assert.Equal(0, bob.Counters.DroppedDecrypt);

            // alice detaches: her session deletes the IKE SA at bob's session, whose SA delete reaches bob.
            var detaching = System.Diagnostics.Stopwatch.StartNew();
            alice.Detach();
            await alice.WaitForAsync<Detached>(Wait, Ct);
            output.WriteLine($"detach took {detaching.Elapsed.TotalMilliseconds:F0} ms");
            var removed = await bob.WaitForAsync<SaRemoved>(Wait, Ct);
            Assert.Equal(bobSa.InboundSpi, removed.InboundSpi);
            Assert.DoesNotContain(edgeA.Edge.Attachments(), b => b.Nai == Alice);
        }
        catch (Exception)
        {
            output.WriteLine($"alice: {alice.Counters}; bob: {bob.Counters}");
            output.WriteLine(EdgeDiagnostics.Describe(edgeA));
            output.WriteLine(EdgeDiagnostics.Describe(edgeB));
            throw;
        }
    }

    private static bool IPNetworkContains(string prefix, IPAddress address) => IPNetwork.Parse(prefix).Contains(address);

    private static void AssertAddresses(byte[] packet, IPAddress source, IPAddress destination)
    {
        Assert.Equal(PacketError.None, IpPacket.TryRead(packet, out var ip));
        Assert.Equal(source, ip.Source.ToIPAddress());
        Assert.Equal(destination, ip.Destination.ToIPAddress());
    }
}
