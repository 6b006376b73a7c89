using System.Net;
using KeyProxy.Wire;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Handset.Tests;

/// <summary>
/// Seed Figs 7-9 against the fake edge: protect without an SA holds the packet and sends a key
/// exchange proxy request; the key transfer installs the SA and releases the packet as ESP; the
/// peer's encrypted answer is decrypted and delivered.
/// </summary>
public sealed class ProxyFlowTests
{
    [Fact]
    public void First_packet_is_held_then_released_as_esp_and_the_echo_comes_back_decrypted()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        var packet = rig.ToPeer("first packet to the peer");

        var result = rig.Send(packet);

        Assert.Equal(HandsetPacketStatus.Held, result.Status);
        var request = Assert.Single(rig.Edge.Requests);
        Assert.Equal(HandsetRig.HandsetAddress, Assert.Single(request.InitiatorSelectors).StartAddress);
        Assert.Equal(HandsetRig.Peer, Assert.Single(request.ResponderSelectors).StartAddress);
        Assert.NotEmpty(request.Suites);
        var installed = rig.Single<SaInstalled>();
        Assert.Equal(request.RequestId, installed.RequestId);
        Assert.Equal(1, installed.ReleasedPackets);
        Assert.Equal(packet, Assert.Single(rig.Edge.PeerReceived));
        Assert.Equal(FakeEdge.Reverse(packet), Assert.Single(rig.Delivered));
        Assert.Equal(0, rig.Handset.PendingRequests);
    }

    [Fact]
    public void With_the_sa_in_place_packets_go_out_at_once_in_both_directions()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        rig.Send(rig.ToPeer("opens the SA"));
        for (int i = 0; i < 10; i++)
        {
            var packet = rig.ToPeer($"packet {i}");
            Assert.Equal(HandsetPacketStatus.Ok, rig.Send(packet).Status);
            Assert.Equal(packet, rig.Edge.PeerReceived[^1]);
            Assert.Equal(FakeEdge.Reverse(packet), rig.Delivered[^1]);
        }
        Assert.Single(rig.Edge.Requests);
        Assert.Equal(11, rig.Handset.Counters.Delivered);
        Assert.Equal(11, rig.Handset.Counters.Sent);
    }

    [Fact]
    public void A_plain_esp_sa_sends_ip_protocol_50_and_takes_the_peers_plain_esp()
    {
        // No NAT between the proxy and the peer, and a TUN edge: the key transfer says plain ESP (ports 0).
        using var rig = new HandsetRig();
        rig.Edge.PlainEsp = true;
        rig.Attach();
        var first = rig.ToPeer("held, then plain ESP");
        Assert.Equal(HandsetPacketStatus.Held, rig.Send(first).Status);
        Assert.Equal(1, rig.Single<SaInstalled>().ReleasedPackets);
        for (int i = 0; i < 5; i++)
        {
            var packet = rig.ToPeer($"plain {i}");
            Assert.Equal(HandsetPacketStatus.Ok, rig.Send(packet).Status);
            Assert.Equal(packet, rig.Edge.PeerReceived[^1]);
            Assert.Equal(FakeEdge.Reverse(packet), rig.Delivered[^1]);
        }
        Assert.Equal(6, rig.Edge.PeerSawProtocols.Count);
        Assert.All(rig.Edge.PeerSawProtocols, p => Assert.Equal(IpPacket.Esp, p));
        Assert.Equal(6, rig.Handset.Counters.Delivered);
        Assert.Equal(0, rig.Handset.Counters.KeyTransfersRejected);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Esp_arriving_otherwise_than_its_sa_was_negotiated_finds_no_sa(bool plainSa)
    {
        using var rig = new HandsetRig();
        rig.Edge.PlainEsp = plainSa;
        rig.Attach();
        rig.Send(rig.ToPeer("opens the SA"));
        var pair = rig.Edge.PeerSas.Values.Single();
        var wrongWay = rig.Edge.EspTo(pair, FakeEdge.Reverse(rig.ToPeer("wrong way")), rig.Clock.UtcNow, plain: !plainSa);
        Assert.Equal(HandsetDropReason.NoSa, rig.Receive(wrongWay).Reason);
        var rightWay = rig.Edge.EspTo(pair, FakeEdge.Reverse(rig.ToPeer("right way")), rig.Clock.UtcNow, plain: plainSa);
        Assert.Equal(HandsetPacketStatus.Ok, rig.Receive(rightWay).Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_steady_data_path_allocates_nothing(bool plainEsp)
    {
        using var rig = new HandsetRig();
        rig.Edge.PlainEsp = plainEsp;
        rig.Attach();
        rig.Send(rig.ToPeer("opens the SA"));
        var packet = rig.ToPeer(new string('x', 512));
        var datagram = new byte[Handset.MaxDatagramLength(packet.Length)];
        var peerPair = rig.Edge.PeerSas.Values.Single();
        var delivered = new byte[2048];
        const int warmUp = 100, rounds = 3, perRound = 100;
        var replies = new byte[warmUp + rounds * perRound][];
        for (int i = 0; i < replies.Length; i++) replies[i] = rig.Edge.EspTo(peerPair, FakeEdge.Reverse(packet), rig.Clock.UtcNow);
        for (int i = 0; i < warmUp; i++)
        {
            Assert.Equal(HandsetPacketStatus.Ok, rig.Handset.Send(packet, datagram).Status);
            Assert.Equal(HandsetPacketStatus.Ok, rig.Handset.Receive(replies[i], delivered).Status);
        }

        // Rounds until the JIT settles (tiering allocates once on this thread); the last one is the steady state.
        long allocated = -1;
        for (int round = 0; round < rounds; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = warmUp + round * perRound; i < warmUp + (round + 1) * perRound; i++)
            {
                rig.Handset.Send(packet, datagram);
                rig.Handset.Receive(replies[i], delivered);
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
        Assert.Equal(1 + warmUp + rounds * perRound, rig.Handset.Counters.Delivered); // the first echo and every reply
        Assert.Equal(1 + warmUp + rounds * perRound, rig.Handset.Counters.Sent);
        // What went out was ESP in UDP, or plain ESP (the IPv4 header's protocol field).
        Assert.Equal(plainEsp ? IpPacket.Esp : IpPacket.Udp, datagram[KeyProxy.Wire.Access.AccessData.HeaderSize + 9]);
    }

    [Fact]
    public void Bypass_goes_out_as_it_is_and_unmatched_traffic_is_discarded()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        var clear = HandsetRig.Udp(HandsetRig.HandsetAddress, HandsetRig.ClearHost, "in the clear");
        var datagram = new byte[Handset.MaxDatagramLength(clear.Length)];
        var r = rig.Handset.Send(clear, datagram);
        Assert.Equal(HandsetPacketStatus.Ok, r.Status);
        Assert.Equal(clear, datagram[8..r.Length]);

        var nowhere = HandsetRig.Udp(HandsetRig.HandsetAddress, IPAddress.Parse("192.0.2.1"), "no policy");
        Assert.Equal(HandsetDropReason.Policy, rig.Handset.Send(nowhere, datagram).Reason);
        var spoofed = HandsetRig.Udp(IPAddress.Parse("10.45.0.8"), HandsetRig.Peer, "not my address");
        Assert.Equal(HandsetDropReason.WrongSource, rig.Handset.Send(spoofed, datagram).Reason);
        Assert.Equal(HandsetDropReason.Malformed, rig.Handset.Send(new byte[] { 0x45, 0, 0 }, datagram).Reason);
        Assert.Empty(rig.Edge.Requests);
    }

    [Fact]
    public void Inbound_traffic_in_the_clear_is_delivered_only_where_the_spd_bypasses()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        var fromClearHost = HandsetRig.Udp(HandsetRig.ClearHost, HandsetRig.HandsetAddress, "hello", 7, 40000);
        Assert.Equal(HandsetPacketStatus.Ok, rig.Receive(rig.Edge.DataFrom(IpAddressValue.FromIPAddress(HandsetRig.ClearHost), 7, 40000, "hello"u8.ToArray())).Status);
        var unprotected = rig.Receive(rig.Edge.DataFrom(IpAddressValue.FromIPAddress(HandsetRig.Peer), 7, 40000, "should be ESP"u8.ToArray()));
        Assert.Equal(HandsetDropReason.Unprotected, unprotected.Reason);
        Assert.Equal(1, rig.Handset.Counters.DroppedUnprotected);
        Assert.Single(rig.Delivered);
        Assert.NotNull(fromClearHost);
    }

    [Fact]
    public void The_hold_queue_is_bounded_and_the_overflow_counted()
    {
        using var rig = new HandsetRig(c => c with { MaxHeldPackets = 4 });
        rig.Attach();
        rig.Edge.Behaviour = ProxyBehaviour.Silent;
        var results = Enumerable.Range(0, 6).Select(i => rig.Send(rig.ToPeer($"held {i}")).Status).ToList();
        Assert.Equal([HandsetPacketStatus.Held, HandsetPacketStatus.Held, HandsetPacketStatus.Held, HandsetPacketStatus.Held,
            HandsetPacketStatus.Dropped, HandsetPacketStatus.Dropped], results);
        Assert.Equal(2, rig.Handset.Counters.DroppedQueueFull);
        Assert.Single(rig.Edge.Requests); // one request per destination, not per packet

        // When the SA finally arrives, exactly the four held packets go out, in order.
        rig.Edge.Behaviour = ProxyBehaviour.Install;
        rig.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(4, rig.Single<SaInstalled>().ReleasedPackets);
        Assert.Equal(Enumerable.Range(0, 4).Select(i => rig.ToPeer($"held {i}")).ToList(), rig.Edge.PeerReceived);
    }

    [Fact]
    public void Requests_are_retried_with_backoff_and_time_out_dropping_the_held_packets()
    {
        using var rig = new HandsetRig(c => c with { RequestRetry = new RequestRetryPolicy(TimeSpan.FromSeconds(1), 2.0, 3) });
        rig.Attach();
        rig.Edge.Behaviour = ProxyBehaviour.Silent;
        rig.Send(rig.ToPeer("one"));
        rig.Send(rig.ToPeer("two"));
        rig.Advance(TimeSpan.FromSeconds(0.9));
        Assert.Single(rig.Edge.Requests);
        rig.Advance(TimeSpan.FromSeconds(0.2)); // 1 s: second attempt
        Assert.Equal(2, rig.Edge.Requests.Count);
        rig.Advance(TimeSpan.FromSeconds(2)); // 3 s: third attempt
        Assert.Equal(3, rig.Edge.Requests.Count);
        Assert.All(rig.Edge.Requests, r => Assert.Equal((rig.Edge.Requests[0].RequestId, rig.Edge.Requests[0].HandsetNonce), (r.RequestId, r.HandsetNonce)));
        rig.Advance(TimeSpan.FromSeconds(4)); // 7 s: gives up
        var timedOut = rig.Single<ProxyRequestTimedOut>();
        Assert.Equal(2, timedOut.DroppedPackets);
        Assert.Equal(2, rig.Handset.Counters.DroppedHoldExpired);
        Assert.Equal(0, rig.Handset.PendingRequests);
        Assert.Equal(3, rig.Edge.Requests.Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_refusal_drops_the_held_packets_and_holds_down_new_requests(bool byEdge)
    {
        using var rig = new HandsetRig();
        rig.Attach();
        rig.Edge.Behaviour = byEdge ? ProxyBehaviour.RefuseAtEdge : ProxyBehaviour.FailInProxy;
        rig.Send(rig.ToPeer("refused"));
        var refused = rig.Single<ProxyRefused>();
        Assert.Equal(byEdge, refused.ByEdge);
        Assert.Equal(byEdge ? KeyProxyReason.PeerNotAllowed : KeyProxyReason.PeerAuthenticationFailed, refused.Reason);
        Assert.False(string.IsNullOrEmpty(refused.Text));
        Assert.Equal(1, refused.DroppedPackets);

        Assert.Equal(HandsetDropReason.Refused, rig.Send(rig.ToPeer("still refused")).Reason);
        Assert.Single(rig.Edge.Requests);
        // Another peer is not affected; after the hold-down the refused peer is asked for again.
        rig.Edge.Behaviour = ProxyBehaviour.Install;
        Assert.Equal(HandsetPacketStatus.Held, rig.Send(rig.ToPeer("other", HandsetRig.OtherPeer)).Status);
        rig.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal(HandsetPacketStatus.Held, rig.Send(rig.ToPeer("again")).Status);
        Assert.Equal(3, rig.Edge.Requests.Count);
        Assert.Equal(2, rig.Events.OfType<SaInstalled>().Count());
    }
}
