using KeyProxy.Wire;

namespace KeyProxy.Handset.Tests;

/// <summary>Attach by challenge-response over the subscriber secret, both ways authenticated; detach.</summary>
public sealed class AttachTests
{
    [Fact]
    public void Attach_gives_the_tunnel_and_address_from_the_edge()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        var attached = rig.Single<Attached>();
        Assert.Equal(FakeEdge.Tunnel, attached.TunnelId);
        Assert.Equal(HandsetRig.HandsetAddress, attached.Address);
        Assert.Equal(HandsetRig.HandsetAddress, rig.Handset.Address);
        // Nothing left to retransmit: the next thing due is the first access-link echo check.
        Assert.Equal(rig.Clock.UtcNow + TimeSpan.FromSeconds(15), rig.Handset.NextDeadline);
    }

    [Fact]
    public void A_wrong_secret_is_rejected_by_the_edge_and_reported()
    {
        using var rig = new HandsetRig(edgeSecret: "the network knows another secret"u8.ToArray());
        rig.Handset.Attach();
        rig.Pump();
        var failed = rig.Single<AttachFailed>();
        Assert.Equal(KeyProxyReason.AuthenticationFailed, failed.Reason);
        Assert.Equal(HandsetState.Detached, rig.Handset.State);
    }

    [Fact]
    public void An_accept_without_the_networks_proof_is_ignored_and_the_attach_fails_after_its_retries()
    {
        using var rig = new HandsetRig();
        rig.Edge.ForgeAccept = true;
        rig.Handset.Attach();
        rig.Pump();
        Assert.Equal(HandsetState.AwaitingAccept, rig.Handset.State);
        Assert.True(rig.Handset.Counters.ControlIgnored >= 1);
        rig.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HandsetState.Detached, rig.Handset.State);
        Assert.Null(rig.Single<AttachFailed>().Reason);
        Assert.Empty(rig.Events.OfType<Attached>());
    }

    [Fact]
    public void Attach_requests_are_retransmitted_while_the_edge_is_silent_then_succeed()
    {
        using var rig = new HandsetRig();
        rig.Edge.AnswerAttach = false;
        rig.Handset.Attach();
        rig.Pump();
        rig.Advance(TimeSpan.FromSeconds(1)); // first retransmission (AttachRetry 1 s)
        Assert.Equal(HandsetState.AwaitingChallenge, rig.Handset.State);
        rig.Edge.AnswerAttach = true;
        rig.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HandsetState.Attached, rig.Handset.State);
    }

    [Fact]
    public void Detach_is_acknowledged_and_drops_every_sa()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        rig.Send(rig.ToPeer("hello"));
        Assert.Single(rig.Handset.InstalledInboundSpis);
        rig.Handset.Detach();
        rig.Pump();
        Assert.True(rig.Single<Detached>().Acknowledged);
        Assert.Equal(SaRemovalReason.Detached, rig.Single<SaRemoved>().Reason);
        Assert.Empty(rig.Handset.InstalledInboundSpis);
        Assert.Equal(HandsetState.Detached, rig.Handset.State);
        Assert.Equal(HandsetPacketStatus.Dropped, rig.Send(rig.ToPeer("after detach")).Status);
        Assert.Equal(1, rig.Handset.Counters.DroppedNotAttached);
    }

    [Fact]
    public void An_answering_edge_keeps_the_attachment_through_the_echo_checks()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        rig.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(8, rig.Edge.EchoRequests); // every 15 s
        Assert.Equal(HandsetState.Attached, rig.Handset.State);
        Assert.Empty(rig.Events.OfType<AttachmentLost>());
    }

    [Fact]
    public void A_silent_edge_loses_the_attachment_and_the_handset_attaches_again_when_it_answers()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        rig.Send(rig.ToPeer("opens an SA"));
        var firstTunnel = rig.Handset.TunnelId;
        rig.Edge.AnswerAttach = false; // the edge restarted and forgot the tunnel: no echo replies, no attach answers

        rig.Advance(TimeSpan.FromSeconds(15 * 4 + 1)); // three unanswered echoes, then lost
        var lost = rig.Single<AttachmentLost>();
        Assert.Equal((firstTunnel, 3), (lost.TunnelId, lost.UnansweredEchoes));
        Assert.Equal(SaRemovalReason.Detached, rig.Single<SaRemoved>().Reason);
        Assert.Equal(HandsetState.AwaitingChallenge, rig.Handset.State); // attaching again by itself

        rig.Edge.AnswerAttach = true;
        rig.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(HandsetState.Attached, rig.Handset.State);
        Assert.Equal(2, rig.Events.OfType<Attached>().Count());
        Assert.Equal(HandsetPacketStatus.Held, rig.Send(rig.ToPeer("needs a new SA after re-attach")).Status);
    }

    [Fact]
    public void Without_reattach_a_lost_attachment_stays_detached()
    {
        using var rig = new HandsetRig(c => c with { Reattach = false });
        rig.Attach();
        rig.Edge.AnswerAttach = false;
        rig.Advance(TimeSpan.FromMinutes(2));
        Assert.Single(rig.Events.OfType<AttachmentLost>());
        Assert.Equal(HandsetState.Detached, rig.Handset.State);
    }
}
