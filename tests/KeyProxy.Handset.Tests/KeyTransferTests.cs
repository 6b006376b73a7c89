using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset.Tests;

/// <summary>Key transfers that must not be believed, and the SA lifecycle they drive: rekey, delete, expiry.</summary>
public sealed class KeyTransferTests
{
    private static (HandsetRig Rig, SaInstalled First) Established(Func<HandsetConfig, HandsetConfig>? configure = null)
    {
        var rig = new HandsetRig(configure);
        rig.Attach();
        rig.Send(rig.ToPeer("opens the SA"));
        return (rig, rig.Single<SaInstalled>());
    }

    [Fact]
    public void Forged_and_truncated_key_transfers_are_rejected_and_counted()
    {
        var (rig, _) = Established();
        using var _rig = rig;
        var genuine = rig.Edge.KeyTransferTo(HandsetRig.OtherPeer, rig.Edge.Install(0, default, HandsetRig.OtherPeer, 0, rig.Clock.UtcNow));
        int payloadStart = genuine.Length - rig.Edge.SentKeyTransfers[^1].Length;

        var flipped = (byte[])genuine.Clone();
        flipped[^5] ^= 0x01; // inside the GCM ciphertext/tag
        var fixedChecksum = rig.Edge.DataFrom(Wire.Ip.IpAddressValue.FromIPAddress(HandsetRig.OtherPeer), 500, 500, flipped[payloadStart..]);
        Assert.Equal(HandsetPacketStatus.Control, rig.Receive(fixedChecksum).Status);
        var truncated = rig.Edge.DataFrom(Wire.Ip.IpAddressValue.FromIPAddress(HandsetRig.OtherPeer), 500, 500, genuine[payloadStart..^10]);
        rig.Receive(truncated);
        rig.Pump();

        Assert.Equal(2, rig.Handset.Counters.KeyTransfersRejected);
        Assert.Single(rig.Handset.InstalledInboundSpis);
        Assert.Equal([KeyTransferStatus.AuthenticationFailed, KeyTransferStatus.Malformed], rig.Events.OfType<KeyTransferRejected>().Select(e => e.Status));

        // The genuine one still installs: the forgeries did not advance the replay counter.
        rig.Receive(genuine);
        rig.Pump();
        Assert.Equal(2, rig.Handset.InstalledInboundSpis.Count);
    }

    [Fact]
    public void A_replayed_key_transfer_is_rejected_and_installs_nothing_twice()
    {
        var (rig, _) = Established();
        using var _rig = rig;
        var transfer = rig.Edge.KeyTransferTo(HandsetRig.OtherPeer, rig.Edge.Install(0, default, HandsetRig.OtherPeer, 0, rig.Clock.UtcNow));
        rig.Receive(transfer);
        rig.Receive(transfer);
        rig.Pump();
        Assert.Equal(1, rig.Handset.Counters.KeyTransfersReplayed);
        Assert.Equal(2, rig.Events.OfType<SaInstalled>().Count());
        Assert.Equal(KeyTransferStatus.Replayed, rig.Single<KeyTransferRejected>().Status);
    }

    [Fact]
    public void A_key_transfer_sealed_for_another_attachment_does_not_open()
    {
        var (rig, _) = Established();
        using var _rig = rig;
        var old = rig.Edge.KeyTransferTo(HandsetRig.OtherPeer, rig.Edge.Install(0, default, HandsetRig.OtherPeer, 0, rig.Clock.UtcNow));
        // Re-attach: new nonces, so a new delivery key; the old transfer must not open any more.
        rig.Handset.Attach();
        rig.Pump();
        rig.Receive(old);
        rig.Pump();
        Assert.Equal(1, rig.Handset.Counters.KeyTransfersRejected);
        Assert.Empty(rig.Handset.InstalledInboundSpis);
    }

    [Fact]
    public void A_rekey_moves_outbound_at_once_and_drops_the_old_inbound_sa_once_traffic_moved()
    {
        var (rig, first) = Established();
        using var _rig = rig;
        var rekey = rig.Edge.Install(0, default, HandsetRig.Peer, replaces: first.InboundSpi, rig.Clock.UtcNow);
        rig.Edge.Echo = false;
        rig.Receive(rig.Edge.KeyTransferTo(HandsetRig.Peer, rekey));
        rig.Pump();
        var second = rig.Events.OfType<SaInstalled>().Last();
        Assert.Equal(first.InboundSpi, second.Replaces);

        rig.Send(rig.ToPeer("after the rekey"));
        Assert.Equal(second.OutboundSpi, rig.Edge.PeerSawSpis[^1]);
        Assert.Equal(2, rig.Handset.InstalledInboundSpis.Count);

        // A late packet on the old SA is still delivered.
        var oldPeer = rig.Edge.PeerSas[first.InboundSpi];
        Assert.Equal(HandsetPacketStatus.Ok, rig.Receive(rig.Edge.EspTo(oldPeer, FakeEdge.Reverse(rig.ToPeer("late on old")), rig.Clock.UtcNow)).Status);
        // Traffic on the new SA starts the drain; after it the old pair is gone.
        var newPeer = rig.Edge.PeerSas[second.InboundSpi];
        Assert.Equal(HandsetPacketStatus.Ok, rig.Receive(rig.Edge.EspTo(newPeer, FakeEdge.Reverse(rig.ToPeer("on new")), rig.Clock.UtcNow)).Status);
        rig.Advance(TimeSpan.FromSeconds(3));
        var removed = rig.Single<SaRemoved>();
        Assert.Equal((first.InboundSpi, SaRemovalReason.Rekeyed), (removed.InboundSpi, removed.Reason));
        Assert.Equal([second.InboundSpi], rig.Handset.InstalledInboundSpis);
        Assert.Equal(HandsetDropReason.NoSa,
            rig.Receive(rig.Edge.EspTo(oldPeer, FakeEdge.Reverse(rig.ToPeer("too late")), rig.Clock.UtcNow)).Reason);
    }

    [Fact]
    public void Without_traffic_on_the_new_sa_the_old_one_goes_at_the_overlap_limit()
    {
        var (rig, first) = Established(c => c with { RekeyOverlapLimit = TimeSpan.FromSeconds(20) });
        using var _rig = rig;
        rig.Receive(rig.Edge.KeyTransferTo(HandsetRig.Peer, rig.Edge.Install(0, default, HandsetRig.Peer, first.InboundSpi, rig.Clock.UtcNow)));
        rig.Pump();
        rig.Advance(TimeSpan.FromSeconds(19));
        Assert.Equal(2, rig.Handset.InstalledInboundSpis.Count);
        rig.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(first.InboundSpi, rig.Single<SaRemoved>().InboundSpi);
    }

    [Fact]
    public void A_delete_removes_the_pair_and_the_next_packet_asks_again()
    {
        var (rig, first) = Established();
        using var _rig = rig;
        rig.Receive(rig.Edge.KeyTransferTo(HandsetRig.Peer, new SaDelete(SaDeleteReason.PeerDeleted, [first.InboundSpi])));
        rig.Pump();
        var removed = rig.Single<SaRemoved>();
        Assert.Equal(SaRemovalReason.DeletedByNetwork, removed.Reason);
        Assert.Empty(rig.Handset.InstalledInboundSpis);
        Assert.Equal(HandsetPacketStatus.Held, rig.Send(rig.ToPeer("needs a new SA")).Status);
        Assert.Equal(2, rig.Edge.Requests.Count);
    }

    [Fact]
    public void A_hard_lifetime_expires_the_sa_here_and_a_soft_one_is_reported()
    {
        var rig = new HandsetRig();
        using var _rig = rig;
        rig.Edge.Lifetimes = new SaLifetimes(SoftSeconds: 5, HardSeconds: 8, 0, 0, 0, 0);
        rig.Attach();
        rig.Send(rig.ToPeer("opens the SA"));
        var sa = rig.Single<SaInstalled>();
        rig.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(sa.InboundSpi, rig.Single<SaSoftLifetimeReached>().InboundSpi);
        Assert.Empty(rig.Events.OfType<SaRemoved>());
        rig.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(SaRemovalReason.Expired, rig.Single<SaRemoved>().Reason);
        Assert.Empty(rig.Handset.InstalledInboundSpis);
    }

    [Fact]
    public void An_install_answering_a_request_with_the_wrong_nonce_is_rejected()
    {
        var rig = new HandsetRig();
        using var _rig = rig;
        rig.Attach();
        rig.Edge.Behaviour = ProxyBehaviour.Silent;
        rig.Send(rig.ToPeer("waits"));
        var request = Assert.Single(rig.Edge.Requests);
        var wrongNonce = new Nonce16(request.HandsetNonce.Value ^ 1);
        rig.Receive(rig.Edge.KeyTransferTo(HandsetRig.Peer, rig.Edge.Install(request.RequestId, wrongNonce, HandsetRig.Peer, 0, rig.Clock.UtcNow)));
        rig.Pump();
        Assert.Contains("nonce", rig.Single<KeyTransferRejected>().Detail);
        Assert.Empty(rig.Handset.InstalledInboundSpis);
        Assert.Equal(1, rig.Handset.PendingRequests);
    }

    [Fact]
    public void Key_transfers_are_counted_by_outcome_and_a_refusal_is_not_an_installed_sa()
    {
        using var rig = new HandsetRig();
        rig.Attach();
        rig.Edge.Behaviour = ProxyBehaviour.FailInProxy;
        rig.Send(rig.ToPeer("refused"));
        rig.Single<ProxyRefused>();
        Assert.Equal((0L, 0L, 1L), (rig.Handset.Counters.SasInstalled, rig.Handset.Counters.SaDeletes, rig.Handset.Counters.ProxyFailures));
        Assert.Contains("key transfers: 0 installed, 0 deletes, 1 refusals, 0 rejected, 0 replayed", rig.Handset.Counters.ToString());

        rig.Advance(TimeSpan.FromSeconds(11));
        rig.Edge.Behaviour = ProxyBehaviour.Install;
        rig.Send(rig.ToPeer("installs"));
        var sa = rig.Single<SaInstalled>();
        rig.Receive(rig.Edge.KeyTransferTo(HandsetRig.Peer, new SaDelete(SaDeleteReason.PeerDeleted, [sa.InboundSpi])));
        rig.Pump();
        Assert.Equal((1L, 1L, 1L), (rig.Handset.Counters.SasInstalled, rig.Handset.Counters.SaDeletes, rig.Handset.Counters.ProxyFailures));
        Assert.Contains("key transfers: 1 installed, 1 deletes, 1 refusals, 0 rejected, 0 replayed", rig.Handset.Counters.ToString());
    }

    [Fact]
    public void An_install_with_a_suite_the_handset_did_not_offer_is_refused()
    {
        var gcm128 = new EspSuite(EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None, EsnMode.NoEsn);
        using var rig = new HandsetRig(c => c with { Suites = [gcm128] });
        rig.Edge.Suite = gcm128 with { EncryptionKeyBits = 256 };
        rig.Attach();
        rig.Send(rig.ToPeer("waits for an SA it can run"));
        Assert.Contains("was not offered", rig.Single<KeyTransferRejected>().Detail);
        Assert.Empty(rig.Events.OfType<SaInstalled>());
        Assert.Empty(rig.Handset.InstalledInboundSpis);
        Assert.Equal(1, rig.Handset.Counters.KeyTransfersRejected);
    }
}
