using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;
using static KeyProxy.Ike.Tests.Protocol.TestConfigs;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>Two engines in memory through IKE_SA_INIT and IKE_AUTH.</summary>
public class IkeExchangeTests
{
    public static TheoryData<EncryptionAlgorithm, int, IntegrityAlgorithm, PrfAlgorithm, DhGroup> Suites()
    {
        var data = new TheoryData<EncryptionAlgorithm, int, IntegrityAlgorithm, PrfAlgorithm, DhGroup>();
        var ciphers = new (EncryptionAlgorithm, int, IntegrityAlgorithm)[]
        {
            (EncryptionAlgorithm.AesGcm16, 128, IntegrityAlgorithm.None),
            (EncryptionAlgorithm.AesGcm16, 256, IntegrityAlgorithm.None),
            (EncryptionAlgorithm.AesCbc, 128, IntegrityAlgorithm.HmacSha2_256_128),
            (EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_384_192),
            (EncryptionAlgorithm.AesCbc, 256, IntegrityAlgorithm.HmacSha2_512_256),
        };
        var prfs = new[] { PrfAlgorithm.HmacSha2_256, PrfAlgorithm.HmacSha2_384, PrfAlgorithm.HmacSha2_512 };
        var groups = new[] { DhGroup.Modp2048, DhGroup.Ecp256, DhGroup.Ecp384, DhGroup.Curve25519 };
        var i = 0;
        foreach (var (e, bits, integ) in ciphers)
            foreach (var prf in prfs)
                foreach (var g in groups)
                    // every cipher with every group; PRFs rotate so each one meets each group too
                    if (i++ % 3 == 0 || prf == PrfAlgorithm.HmacSha2_256) data.Add(e, bits, integ, prf, g);
        return data;
    }

    [Theory]
    [MemberData(nameof(Suites))]
    public void Every_suite_and_group_establishes_matching_keys(EncryptionAlgorithm e, int bits, IntegrityAlgorithm integ, PrfAlgorithm prf, DhGroup group)
    {
        var suite = new IkeSuite(e, bits, integ, prf, group);
        var esp = e == EncryptionAlgorithm.AesGcm16 ? new EspSuite(e, bits, IntegrityAlgorithm.None, EsnMode.NoEsn) : new EspSuite(e, bits, integ, EsnMode.Esn);
        var pair = new EnginePair(Initiator(suite, esp), Responder(suite, esp));
        pair.Start();
        pair.RunUntilQuiet();

        AssertEstablishedPair(pair, suite, esp);
    }

    internal static (ChildSa Initiator, ChildSa Responder) AssertEstablishedPair(EnginePair pair, IkeSuite suite, EspSuite esp)
    {
        Assert.Equal(IkeSessionState.Established, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Established, pair.Responder.State);
        var ie = Assert.Single(pair.InitiatorEvents.OfType<IkeSaEstablished>());
        var re = Assert.Single(pair.ResponderEvents.OfType<IkeSaEstablished>());
        Assert.Equal(suite, ie.Suite);
        Assert.Equal(suite, re.Suite);
        Assert.Equal(ie.InitiatorSpi, re.InitiatorSpi);
        Assert.Equal(ie.ResponderSpi, re.ResponderSpi);
        Assert.Equal("responder.test", ie.PeerIdentity);
        Assert.Equal("initiator.test", re.PeerIdentity);

        var i = Assert.Single(pair.InitiatorEvents.OfType<ChildSaEstablished>()).ChildSa;
        var r = Assert.Single(pair.ResponderEvents.OfType<ChildSaEstablished>()).ChildSa;
        AssertMirror(i, r);
        Assert.Equal(esp, i.Suite);
        Assert.Equal([InitiatorNet], i.LocalSelectors);
        Assert.Equal([ResponderNet], i.RemoteSelectors);
        return (i, r);
    }

    /// <summary>What one side sends with, the other receives with.</summary>
    internal static void AssertMirror(ChildSa a, ChildSa b)
    {
        Assert.Equal(a.InboundSpi, b.OutboundSpi);
        Assert.Equal(a.OutboundSpi, b.InboundSpi);
        Assert.Equal(a.Suite, b.Suite);
        Assert.Equal(a.Keys.OutboundEncryptionKey.ToArray(), b.Keys.InboundEncryptionKey.ToArray());
        Assert.Equal(a.Keys.OutboundIntegrityKey.ToArray(), b.Keys.InboundIntegrityKey.ToArray());
        Assert.Equal(a.Keys.InboundEncryptionKey.ToArray(), b.Keys.OutboundEncryptionKey.ToArray());
        Assert.Equal(a.Keys.InboundIntegrityKey.ToArray(), b.Keys.OutboundIntegrityKey.ToArray());
        Assert.NotEqual(a.Keys.InboundEncryptionKey.ToArray(), a.Keys.OutboundEncryptionKey.ToArray());
        Assert.Equal(a.Suite.EncryptionKeyMaterialLength, a.Keys.InboundEncryptionKey.Length);
        Assert.Equal(a.LocalSelectors, b.RemoteSelectors);
        Assert.Equal(a.RemoteSelectors, b.LocalSelectors);
    }

    [Fact]
    public void Wrong_psk_ends_in_authentication_failed_on_both_sides()
    {
        var pair = new EnginePair(Initiator(GcmX25519, psk: "not the secret at all"u8.ToArray()), Responder(GcmX25519));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeSessionState.Closed, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Closed, pair.Responder.State);
        Assert.Equal(IkeCloseReason.AuthenticationFailed, Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Equal(IkeCloseReason.AuthenticationFailed, Assert.Single(pair.ResponderEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Empty(pair.InitiatorEvents.OfType<ChildSaEstablished>());
        Assert.Empty(pair.ResponderEvents.OfType<ChildSaEstablished>());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_responder_reports_whether_the_initiator_asserted_initial_contact(bool sent)
    {
        // RFC 7296 2.4: INITIAL_CONTACT rides in the IKE_AUTH request; the responder tells its user, which may then
        // delete older IKE SAs with that identity. The initiator never reports it: it only sends it.
        var pair = new EnginePair(Initiator(GcmX25519, EspGcm) with { SendInitialContact = sent }, Responder(GcmX25519, EspGcm));
        pair.Start();
        pair.RunUntilQuiet();

        var established = Assert.Single(pair.ResponderEvents.OfType<IkeSaEstablished>());
        Assert.Equal(sent, established.PeerInitialContact);
        Assert.Equal("initiator.test", established.PeerIdentity);
        Assert.False(Assert.Single(pair.InitiatorEvents.OfType<IkeSaEstablished>()).PeerInitialContact);
    }

    [Fact]
    public void Responder_that_wants_another_group_gets_it_through_invalid_ke_payload()
    {
        // The initiator prefers x25519 and sends its KE; the responder only takes MODP-2048.
        var x25519First = new[] { GcmX25519, GcmX25519 with { DhGroup = DhGroup.Modp2048 } };
        var pair = new EnginePair(Initiator(x25519First, [EspGcm]), Responder([GcmX25519 with { DhGroup = DhGroup.Modp2048 }], [EspGcm]));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(DhGroup.Modp2048, Assert.Single(pair.InitiatorEvents.OfType<IkeSaEstablished>()).Suite.DhGroup);
        // Two IKE_SA_INIT requests: the first with a Curve25519 KE, the retry with MODP-2048.
        var inits = pair.SentByInitiator.Select(d => IkeCodec.Decode(d.Data)).Where(m => m.Exchange == ExchangeType.IkeSaInit).ToList();
        Assert.Equal(2, inits.Count);
        Assert.Equal(DhGroup.Curve25519, inits[0].Find<KeyExchangePayload>()!.Group);
        Assert.Equal(DhGroup.Modp2048, inits[1].Find<KeyExchangePayload>()!.Group);
    }

    [Fact]
    public void Cookie_round_trip_before_any_responder_state()
    {
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519)) { ResponderCookies = new CookieGenerator(SecureRandomSource.Instance) };
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(1, pair.CookiesSent);
        AssertEstablishedPair(pair, GcmX25519, EspGcm);
        var inits = pair.SentByInitiator.Select(d => IkeCodec.Decode(d.Data)).Where(m => m.Exchange == ExchangeType.IkeSaInit).ToList();
        Assert.Equal(2, inits.Count);
        Assert.Equal(NotifyType.Cookie, Assert.IsType<NotifyPayload>(inits[1].Payloads[0]).NotifyType);
        // RFC 7296 2.6: the retry is the same request with the cookie in front.
        Assert.Equal(inits[0].Find<NoncePayload>()!.Nonce.ToArray(), inits[1].Find<NoncePayload>()!.Nonce.ToArray());
    }

    [Fact]
    public void No_common_proposal_fails_cleanly()
    {
        var pair = new EnginePair(Initiator(GcmX25519), Responder(CbcModp2048 with { Prf = PrfAlgorithm.HmacSha2_512 }));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeCloseReason.NoProposalChosen, Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Equal(IkeCloseReason.NoProposalChosen, Assert.Single(pair.ResponderEvents.OfType<IkeSaClosed>()).Reason);
    }

    [Theory]
    [InlineData(0.3, false, 1)]
    [InlineData(0.0, true, 2)]
    [InlineData(0.3, true, 3)]
    [InlineData(0.5, true, 4)]
    public void Lost_duplicated_and_reordered_datagrams_still_establish(double loss, bool duplicate, int seed)
    {
        var random = new Random(seed);
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519), seed)
        {
            Reorder = true,
            Copies = (_, _) => random.NextDouble() < loss ? 0 : duplicate && random.Next(2) == 0 ? 2 : 1,
        };
        pair.Start();
        pair.RunUntilQuiet(TimeSpan.FromMinutes(5));

        AssertEstablishedPair(pair, GcmX25519, EspGcm);
    }

    [Fact]
    public void Every_request_lost_ends_in_timeout_after_the_retransmission_budget()
    {
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519)) { Copies = (toResponder, _) => toResponder ? 0 : 1 };
        pair.Start();
        pair.RunUntilQuiet(TimeSpan.FromMinutes(10));

        var closed = Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>());
        Assert.Equal(IkeCloseReason.Timeout, closed.Reason);
        Assert.Equal(RetransmissionPolicy.Default.MaxTransmissions, pair.SentByInitiator.Count);
    }

    [Fact]
    public void An_initiator_with_an_establish_timeout_gives_up_a_silent_peer_then_not_after_its_retransmissions()
    {
        var pair = new EnginePair(Initiator(GcmX25519) with { EstablishTimeout = TimeSpan.FromSeconds(20) }, Responder(GcmX25519))
        {
            Copies = (toResponder, _) => toResponder ? 0 : 1,
        };
        var started = pair.Clock.UtcNow;
        pair.Start();
        pair.RunUntilQuiet(TimeSpan.FromMinutes(10));

        var closed = Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>());
        Assert.Equal(IkeCloseReason.Timeout, closed.Reason);
        Assert.Contains("the peer answered nothing", closed.Detail);
        Assert.Equal(TimeSpan.FromSeconds(20), pair.Clock.UtcNow - started);
        // 2 s, then backing off by 1.8: transmissions at 0, 2, 5.6 and 12.1 s before the 20 s are up.
        Assert.Equal(4, pair.SentByInitiator.Count);
    }

    [Fact]
    public void An_initiator_that_abandons_an_unanswered_ike_auth_deletes_the_ike_sa_the_peer_established()
    {
        // Issue 15 (storage outage test): the responder established the IKE SA and its CHILD_SA, its IKE_AUTH answer is
        // late, and the initiator's owner starts over. Before Abandon the peer kept that SA until its liveness check.
        EnginePair? p = null;
        var pair = p = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519))
        {
            Copies = (toResponder, _) => toResponder || p!.Responder.State != IkeSessionState.Established ? 1 : 0,
        };
        pair.Start();
        pair.RunUntilQuiet(TimeSpan.FromMilliseconds(500));
        Assert.Equal(IkeSessionState.Authenticating, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Established, pair.Responder.State);
        var child = Assert.Single(pair.ResponderEvents.OfType<ChildSaEstablished>());

        pair.Initiator.Abandon();
        pair.RunUntilQuiet(TimeSpan.FromMilliseconds(500));

        Assert.Equal(IkeSessionState.Closed, pair.Initiator.State);
        Assert.Equal(IkeCloseReason.Local, Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>()).Reason);
        Assert.Equal(IkeSessionState.Closed, pair.Responder.State);
        Assert.Equal(IkeCloseReason.DeletedByPeer, Assert.Single(pair.ResponderEvents.OfType<IkeSaClosed>()).Reason);
        var deleted = Assert.Single(pair.ResponderEvents.OfType<ChildSaDeleted>());
        Assert.Equal(child.ChildSa.InboundSpi, deleted.InboundSpi);
        Assert.True(deleted.ByPeer);
    }

    [Fact]
    public void An_initiator_that_abandons_ike_auth_the_peer_never_got_closes_and_the_peer_drops_the_delete()
    {
        // The peer never saw IKE_AUTH (lost): the Delete on message ID 2 is outside its window and changes nothing there.
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519))
        {
            Copies = (toResponder, d) => toResponder && IkeCodec.TryDecode(d.Data, out var m, out _) && m.Exchange == ExchangeType.IkeAuth ? 0 : 1,
        };
        pair.Start();
        pair.RunUntilQuiet(TimeSpan.FromMilliseconds(500));
        Assert.Equal(IkeSessionState.Authenticating, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Authenticating, pair.Responder.State);

        pair.Initiator.Abandon();
        pair.RunUntilQuiet(TimeSpan.FromMilliseconds(500));

        Assert.Equal(IkeSessionState.Closed, pair.Initiator.State);
        Assert.Equal(IkeSessionState.Authenticating, pair.Responder.State);
        Assert.Empty(pair.ResponderEvents.OfType<ChildSaEstablished>());
    }

    [Fact]
    public void Forced_encapsulation_moves_ike_auth_to_nat_t_and_marks_the_child_sa()
    {
        var pair = new EnginePair(Initiator(GcmX25519) with { ForceUdpEncapsulation = true }, Responder(GcmX25519));
        pair.Start();
        pair.RunUntilQuiet();

        var (i, r) = AssertEstablishedPair(pair, GcmX25519, EspGcm);
        Assert.False(pair.SentByInitiator[0].NatTraversal);
        Assert.True(pair.SentByInitiator[1].NatTraversal);
        Assert.True(i.UdpEncapsulation);
        Assert.True(r.UdpEncapsulation);
        Assert.Equal(4500, i.RemoteEndpoint.Port);
    }

    [Fact]
    public void Without_a_nat_ike_stays_on_its_port_and_the_child_sa_is_plain_esp()
    {
        // RFC 7296 2.23: both NAT_DETECTION hashes match, so neither side floats to NAT-T and ESP is not encapsulated.
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519));
        pair.Start();
        pair.RunUntilQuiet();

        var (i, r) = AssertEstablishedPair(pair, GcmX25519, EspGcm);
        Assert.All(pair.SentByInitiator, d => Assert.False(d.NatTraversal));
        Assert.False(i.UdpEncapsulation);
        Assert.False(r.UdpEncapsulation);
        // Ports 0: plain ESP has none (what the key transfer tells the handset).
        Assert.Equal(0, i.LocalEndpoint.Port);
        Assert.Equal(0, i.RemoteEndpoint.Port);
        Assert.Equal(0, r.RemoteEndpoint.Port);
    }

    [Fact]
    public void A_responder_that_forces_encapsulation_makes_both_sides_encapsulate()
    {
        // The proxy as responder behind a socket-path edge fakes its source hash; the honest initiator sees a NAT.
        var pair = new EnginePair(Initiator(GcmX25519), Responder(GcmX25519) with { ForceUdpEncapsulation = true });
        pair.Start();
        pair.RunUntilQuiet();

        var (i, r) = AssertEstablishedPair(pair, GcmX25519, EspGcm);
        Assert.True(pair.SentByInitiator[1].NatTraversal);
        Assert.True(i.UdpEncapsulation);
        Assert.True(r.UdpEncapsulation);
        Assert.Equal(4500, r.RemoteEndpoint.Port);
    }

    [Fact]
    public void Responder_narrows_traffic_selectors_to_its_policy()
    {
        var wide = TrafficSelectorNarrowing.ForPrefix(System.Net.IPAddress.Parse("10.0.0.0"), 8);
        var initiator = Initiator(GcmX25519);
        initiator = initiator with { Child = initiator.Child with { LocalSelectors = [wide], RemoteSelectors = [wide] } };
        var pair = new EnginePair(initiator, Responder(GcmX25519));
        pair.Start();
        pair.RunUntilQuiet();

        var child = Assert.Single(pair.InitiatorEvents.OfType<ChildSaEstablished>()).ChildSa;
        Assert.Equal([InitiatorNet], child.LocalSelectors);
        Assert.Equal([ResponderNet], child.RemoteSelectors);
    }

    [Fact]
    public void Selectors_outside_the_responders_policy_leave_the_ike_sa_without_child()
    {
        var other = TrafficSelectorNarrowing.ForPrefix(System.Net.IPAddress.Parse("192.0.2.0"), 24);
        var initiator = Initiator(GcmX25519);
        initiator = initiator with { Child = initiator.Child with { RemoteSelectors = [other] } };
        var pair = new EnginePair(initiator, Responder(GcmX25519));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeSessionState.Established, pair.Initiator.State);
        Assert.Equal(NotifyType.TsUnacceptable, Assert.Single(pair.InitiatorEvents.OfType<ChildSaFailed>()).Reason);
        Assert.Empty(pair.Initiator.ChildSas);
        Assert.Empty(pair.Responder.ChildSas);
    }

    [Fact]
    public void Large_ike_auth_is_fragmented_and_reassembled()
    {
        var initiator = Initiator(GcmX25519) with { MaxDatagramSize = 200 };
        var responder = Responder(GcmX25519) with { MaxDatagramSize = 200 };
        var pair = new EnginePair(initiator, responder);
        pair.Start();
        pair.RunUntilQuiet();

        AssertEstablishedPair(pair, GcmX25519, EspGcm);
        var fragments = pair.SentByInitiator.Select(d => IkeCodec.Decode(d.Data)).Count(m => m.Find<EncryptedFragmentPayload>() is not null);
        Assert.True(fragments >= 2, $"expected IKE_AUTH in fragments, saw {fragments}");
    }
}
