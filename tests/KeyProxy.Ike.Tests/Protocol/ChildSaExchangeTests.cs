using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;
using static KeyProxy.Ike.Tests.Protocol.TestConfigs;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>CREATE_CHILD_SA and INFORMATIONAL between two engines in memory.</summary>
public class ChildSaExchangeTests
{
    private static EnginePair Established(IkeSessionConfig? initiator = null, IkeSessionConfig? responder = null)
    {
        var pair = new EnginePair(initiator ?? Initiator(GcmX25519), responder ?? Responder(GcmX25519));
        pair.Start();
        pair.RunUntilQuiet();
        Assert.Equal(IkeSessionState.Established, pair.Responder.State);
        return pair;
    }

    private static IkeSession Side(EnginePair pair, bool initiator) => initiator ? pair.Initiator : pair.Responder;
    private static List<IkeEvent> Events(EnginePair pair, bool initiator) => initiator ? pair.InitiatorEvents : pair.ResponderEvents;

    [Fact]
    public void The_first_child_sa_takes_the_inbound_spi_chosen_in_advance_on_either_side_and_later_ones_a_random_one()
    {
        // The proxy's subscriber lists the first CHILD_SA's SPI before the exchange (issue 17).
        var pair = Established(Initiator(GcmX25519) with { FirstChildInboundSpi = 0x1234_5678 }, Responder(GcmX25519) with { FirstChildInboundSpi = 0x0abc_def0 });
        var first = pair.Initiator.ChildSas.Single();
        Assert.Equal(0x1234_5678u, first.InboundSpi);
        Assert.Equal(0x0abc_def0u, first.OutboundSpi);
        Assert.Equal(0x0abc_def0u, pair.Responder.ChildSas.Single().InboundSpi);

        pair.Initiator.CreateChildSa();
        pair.RunUntilQuiet();
        var second = pair.Initiator.ChildSas.Single(c => c.InboundSpi != first.InboundSpi);
        Assert.NotEqual(0x1234_5678u, second.InboundSpi);
        Assert.True(second.InboundSpi >= 256);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Additional_child_sa_with_pfs(bool fromInitiator)
    {
        var pfs = EspGcm with { DhGroup = DhGroup.Ecp256 };
        var pair = Established(Initiator(GcmX25519, pfs), Responder(GcmX25519, pfs));
        Side(pair, fromInitiator).CreateChildSa();
        pair.RunUntilQuiet();

        Assert.Equal(2, pair.Initiator.ChildSas.Count);
        Assert.Equal(2, pair.Responder.ChildSas.Count);
        var a = Events(pair, fromInitiator).OfType<ChildSaEstablished>().Last().ChildSa;
        var b = Events(pair, !fromInitiator).OfType<ChildSaEstablished>().Last().ChildSa;
        IkeExchangeTests.AssertMirror(a, b);
        var request = (fromInitiator ? pair.SentByInitiator : pair.SentByResponder)[^1];
        Assert.True(request.Data.Length > 150, "CREATE_CHILD_SA with PFS carries a KE payload");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Child_sa_rekey_replaces_and_deletes_the_old_one(bool fromInitiator)
    {
        var pair = Established();
        var old = pair.Initiator.ChildSas.Single();
        var spi = fromInitiator ? old.InboundSpi : old.OutboundSpi;
        Side(pair, fromInitiator).RekeyChildSa(spi);
        pair.RunUntilQuiet();

        var rekeyedI = Assert.Single(pair.InitiatorEvents.OfType<ChildSaRekeyed>());
        var rekeyedR = Assert.Single(pair.ResponderEvents.OfType<ChildSaRekeyed>());
        Assert.Equal(old.InboundSpi, rekeyedI.OldInboundSpi);
        IkeExchangeTests.AssertMirror(rekeyedI.Replacement, rekeyedR.Replacement);
        Assert.NotEqual(old.Keys.InboundEncryptionKey.ToArray(), rekeyedI.Replacement.Keys.InboundEncryptionKey.ToArray());
        Assert.Equal(old.InboundSpi, Assert.Single(pair.InitiatorEvents.OfType<ChildSaDeleted>()).InboundSpi);
        Assert.Equal(old.OutboundSpi, Assert.Single(pair.ResponderEvents.OfType<ChildSaDeleted>()).InboundSpi);
        Assert.Equal(rekeyedI.Replacement.InboundSpi, pair.Initiator.ChildSas.Single().InboundSpi);
        Assert.Equal(rekeyedR.Replacement.InboundSpi, pair.Responder.ChildSas.Single().InboundSpi);
    }

    [Fact]
    public void Simultaneous_child_sa_rekeys_leave_exactly_one_pair()
    {
        for (var seed = 0; seed < 8; seed++)
        {
            var pair = Established();
            var old = pair.Initiator.ChildSas.Single();
            pair.Initiator.RekeyChildSa(old.InboundSpi);
            pair.Responder.RekeyChildSa(old.OutboundSpi);
            pair.RunUntilQuiet();

            // RFC 7296 2.8.1: both rekeys complete, the redundant one and the old one are deleted.
            var i = pair.Initiator.ChildSas.Single();
            var r = pair.Responder.ChildSas.Single();
            IkeExchangeTests.AssertMirror(i, r);
            Assert.NotEqual(old.InboundSpi, i.InboundSpi);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Ike_sa_rekey_keeps_the_child_sas_and_changes_spis(bool fromInitiator)
    {
        var pair = Established();
        var oldSpiI = pair.Initiator.InitiatorSpi;
        var child = pair.Initiator.ChildSas.Single();
        Side(pair, fromInitiator).RekeyIkeSa();
        pair.RunUntilQuiet();

        var a = Assert.Single(pair.InitiatorEvents.OfType<IkeSaRekeyed>());
        var b = Assert.Single(pair.ResponderEvents.OfType<IkeSaRekeyed>());
        Assert.Equal(a, b);
        Assert.Equal(oldSpiI, a.OldInitiatorSpi);
        Assert.NotEqual(oldSpiI, pair.Initiator.InitiatorSpi);
        Assert.Equal(pair.Initiator.InitiatorSpi, pair.Responder.InitiatorSpi);
        Assert.Equal(pair.Initiator.ResponderSpi, pair.Responder.ResponderSpi);
        // The rekey initiator becomes the IKE SA's initiator (RFC 7296 2.18).
        Assert.Equal(fromInitiator, pair.Initiator.IsCurrentInitiator);
        Assert.Equal(child.InboundSpi, pair.Initiator.ChildSas.Single().InboundSpi);
        Assert.Empty(pair.InitiatorEvents.OfType<IkeSaClosed>());

        // The new IKE SA works: a CHILD_SA rekey over it from the other side.
        Side(pair, !fromInitiator).RekeyChildSa(fromInitiator ? child.OutboundSpi : child.InboundSpi);
        pair.RunUntilQuiet();
        Assert.Single(pair.InitiatorEvents.OfType<ChildSaRekeyed>());
        IkeExchangeTests.AssertMirror(pair.Initiator.ChildSas.Single(), pair.Responder.ChildSas.Single());
    }

    [Fact]
    public void Scheduled_rekeys_run_from_the_clock()
    {
        var initiator = Initiator(GcmX25519) with { IkeRekeyAfter = TimeSpan.FromMinutes(30) };
        initiator = initiator with { Child = initiator.Child with { RekeyAfter = TimeSpan.FromMinutes(10) } };
        var pair = Established(initiator);
        pair.Clock.Advance(TimeSpan.FromMinutes(31));
        pair.RunUntilQuiet(TimeSpan.FromMinutes(1));

        Assert.True(pair.InitiatorEvents.OfType<ChildSaRekeyed>().Count() >= 1);
        Assert.Single(pair.InitiatorEvents.OfType<IkeSaRekeyed>());
        IkeExchangeTests.AssertMirror(pair.Initiator.ChildSas.Single(), pair.Responder.ChildSas.Single());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Child_sa_delete_reaches_the_other_side(bool fromInitiator)
    {
        var pair = Established();
        var child = Side(pair, fromInitiator).ChildSas.Single();
        Side(pair, fromInitiator).DeleteChildSa(child.InboundSpi);
        pair.RunUntilQuiet();

        Assert.Empty(pair.Initiator.ChildSas);
        Assert.Empty(pair.Responder.ChildSas);
        Assert.True(Assert.Single(Events(pair, !fromInitiator).OfType<ChildSaDeleted>()).ByPeer);
        Assert.False(Assert.Single(Events(pair, fromInitiator).OfType<ChildSaDeleted>()).ByPeer);
        Assert.Equal(IkeSessionState.Established, pair.Initiator.State);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Ike_sa_delete_closes_both_sides_with_their_children(bool fromInitiator)
    {
        var pair = Established();
        Side(pair, fromInitiator).Delete();
        pair.RunUntilQuiet();

        Assert.Equal(IkeSessionState.Closed, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Closed, pair.Responder.State);
        Assert.Equal(IkeCloseReason.DeletedByPeer, Assert.Single(Events(pair, !fromInitiator).OfType<IkeSaClosed>()).Reason);
        Assert.Equal(IkeCloseReason.Local, Assert.Single(Events(pair, fromInitiator).OfType<IkeSaClosed>()).Reason);
        Assert.Single(pair.InitiatorEvents.OfType<ChildSaDeleted>());
        Assert.Single(pair.ResponderEvents.OfType<ChildSaDeleted>());
    }

    [Fact]
    public void Liveness_check_is_answered_and_a_silent_peer_times_out()
    {
        var initiator = Initiator(GcmX25519) with { LivenessInterval = TimeSpan.FromSeconds(30) };
        var pair = Established(initiator);
        var before = pair.SentByResponder.Count;
        pair.Clock.Advance(TimeSpan.FromSeconds(31));
        pair.RunUntilQuiet(TimeSpan.FromSeconds(5));
        Assert.Equal(before + 1, pair.SentByResponder.Count);
        Assert.Equal(IkeSessionState.Established, pair.Initiator.State);

        // Now the responder vanishes: the liveness check goes unanswered and the IKE SA ends.
        pair.Copies = (toResponder, _) => toResponder ? 0 : 1;
        pair.Clock.Advance(TimeSpan.FromSeconds(31));
        pair.RunUntilQuiet(TimeSpan.FromMinutes(10));
        Assert.Equal(IkeCloseReason.Timeout, Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Single(pair.InitiatorEvents.OfType<ChildSaDeleted>());
    }

    [Fact]
    public void Rekeys_and_deletes_survive_loss_duplication_and_reordering()
    {
        var random = new Random(7);
        var pair = Established();
        pair.Reorder = true;
        pair.Copies = (_, _) => random.NextDouble() < 0.25 ? 0 : random.Next(3) == 0 ? 2 : 1;
        var child = pair.Initiator.ChildSas.Single();
        pair.Initiator.RekeyChildSa(child.InboundSpi);
        pair.Responder.RekeyIkeSa();
        pair.Initiator.CreateChildSa();
        pair.RunUntilQuiet(TimeSpan.FromMinutes(10));

        Assert.Equal(IkeSessionState.Established, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Established, pair.Responder.State);
        Assert.Equal(2, pair.Initiator.ChildSas.Count);
        var byInbound = pair.Responder.ChildSas.ToDictionary(c => c.InboundSpi);
        foreach (var c in pair.Initiator.ChildSas) IkeExchangeTests.AssertMirror(c, byInbound[c.OutboundSpi]);
    }

    [Fact]
    public void Tampered_protected_message_is_dropped_and_counted()
    {
        var pair = Established();
        pair.Initiator.CheckLiveness();
        var request = pair.Initiator.TakeOutputs().OfType<SendDatagram>().Single();
        var tampered = request.Data.ToArray();
        tampered[^3] ^= 0x40;
        pair.Responder.HandleDatagram(tampered);
        var outputs = pair.Responder.TakeOutputs();
        Assert.Equal(IkeDropReason.IntegrityCheckFailed, Assert.Single(outputs.OfType<IkeMessageDropped>()).Reason);
        Assert.Empty(outputs.OfType<SendDatagram>());
        Assert.Equal(IkeSessionState.Established, pair.Responder.State);
    }
}
