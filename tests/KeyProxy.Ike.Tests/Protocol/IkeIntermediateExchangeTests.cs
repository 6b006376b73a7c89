using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;
using KeyProxy.Ike.Tests.Crypto;
using KeyProxy.Primitives;
using static KeyProxy.Ike.Tests.Protocol.TestConfigs;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>Hybrid IKE SAs: additional key exchanges (RFC 9370) in IKE_INTERMEDIATE exchanges (RFC 9242), two engines in memory.</summary>
public sealed class IkeIntermediateExchangeTests
{
    private static IkeSuite Hybrid(string text) => IkeSuiteNames.ParseIke(text);

    /// <summary>The messages sent, in order, one entry per message however many RFC 7383 fragments it took.</summary>
    private static List<(ExchangeType Exchange, uint MessageId, bool Response)> Exchanges(IEnumerable<SendDatagram> sent)
    {
        var list = new List<(ExchangeType, uint, bool)>();
        foreach (var d in sent)
        {
            var span = d.Data.Span;
            var message = ((ExchangeType)span[18], BinaryPrimitives.ReadUInt32BigEndian(span[20..]), (span[19] & 0x20) != 0);
            if (list.Count == 0 || list[^1] != message) list.Add(message);
        }
        return list;
    }

    [Theory]
    [InlineData("aes256gcm16-prfsha384-x25519-ke1_mlkem768", 1)]
    [InlineData("aes256gcm16-prfsha384-ecp384-ke1_mlkem1024", 1)]
    [InlineData("aes128gcm16-prfsha256-x25519-ke1_mlkem512-ke2_mlkem768", 2)]
    [InlineData("aes256-sha384-modp2048-ke1_mlkem768-ke3_mlkem1024", 2)]
    public void A_hybrid_suite_runs_one_intermediate_exchange_per_additional_key_exchange_then_ike_auth(string proposal, int intermediates)
    {
        var suite = Hybrid(proposal);
        var pair = new EnginePair(Initiator(suite, EspGcm), Responder(suite, EspGcm));
        pair.Start();
        pair.RunUntilQuiet();

        // ML-KEM-1024's key and ciphertext (1568 bytes each) do not fit the 1280-byte default: RFC 7383 fragments.
        Assert.Equal(proposal.Contains("mlkem1024"), pair.SentByInitiator.Count > intermediates + 2);

        IkeExchangeTests.AssertEstablishedPair(pair, suite, EspGcm);
        // RFC 9242: IKE_SA_INIT (0), IKE_INTERMEDIATE (1..n), IKE_AUTH (n+1), each answered once.
        var expected = new List<(ExchangeType, uint, bool)> { (ExchangeType.IkeSaInit, 0, false) };
        for (uint i = 1; i <= intermediates; i++) expected.Add((ExchangeType.IkeIntermediate, i, false));
        expected.Add((ExchangeType.IkeAuth, (uint)intermediates + 1, false));
        Assert.Equal(expected, Exchanges(pair.SentByInitiator));
        Assert.Equal(expected.Select(e => (e.Item1, e.Item2, true)), Exchanges(pair.SentByResponder));
    }

    [Fact]
    public void The_child_sa_keys_come_from_the_sk_d_that_every_key_exchange_updated()
    {
        var suite = Hybrid("aes256gcm16-prfsha384-x25519-ke1_mlkem768");
        var recorder = new RecordingKeyExchangeProvider();
        var pair = new EnginePair(Initiator(suite, EspGcm), Responder(suite, EspGcm), keyExchange: recorder);
        pair.Start();
        pair.RunUntilQuiet();
        var (child, _) = IkeExchangeTests.AssertEstablishedPair(pair, suite, EspGcm);

        Assert.True(IkeCodec.TryDecode(pair.SentByInitiator[0].Data, out var init, out _));
        Assert.True(IkeCodec.TryDecode(pair.SentByResponder[0].Data, out var initResponse, out _));
        var ni = init!.Find<NoncePayload>()!.Nonce.ToArray();
        var nr = initResponse!.Find<NoncePayload>()!.Nonce.ToArray();
        var dh = recorder.Secrets.First(s => s.Method == DhGroup.Curve25519).Secret;
        var kem = recorder.Secrets.First(s => s.Method == DhGroup.MlKem768).Secret;

        // RFC 7296 2.14 for IKE_SA_INIT, then RFC 9370 2.2.2: SKEYSEED(1) = prf(SK_d(0), SK(1) | Ni | Nr), the same SPIs.
        using var keys0 = IkeKeyDerivation.DeriveIkeSaKeys(suite, dh, ni, nr, initResponse.InitiatorSpi, initResponse.ResponderSpi, out _);
        var skeyseed1 = HMACSHA384.HashData(keys0.SkD, (byte[])[.. kem, .. ni, .. nr]);
        using var keys1 = IkeKeyDerivation.DeriveIkeSaKeys(suite, skeyseed1, ni, nr, initResponse.InitiatorSpi, initResponse.ResponderSpi);
        // RFC 7296 2.17: the IKE_AUTH CHILD_SA's KEYMAT = prf+(SK_d, Ni | Nr), initiator-to-responder keys first.
        var keymat = IkeKeyDerivation.PrfPlus(suite.CreatePrf(), keys1.SkD, [.. ni, .. nr], 2 * EspGcm.EncryptionKeyMaterialLength);

        Assert.Equal(Convert.ToHexString(keymat.AsSpan(0, EspGcm.EncryptionKeyMaterialLength)), Convert.ToHexString(child.Keys.OutboundEncryptionKey.Span));
        Assert.Equal(Convert.ToHexString(keymat.AsSpan(EspGcm.EncryptionKeyMaterialLength)), Convert.ToHexString(child.Keys.InboundEncryptionKey.Span));
    }

    [Fact]
    public void A_responder_without_the_hybrid_suite_refuses_a_proposal_that_requires_it()
    {
        var pair = new EnginePair(Initiator(Hybrid("aes128gcm16-prfsha256-x25519-ke1_mlkem768"), EspGcm), Responder(GcmX25519, EspGcm));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeCloseReason.NoProposalChosen, Assert.Single(pair.InitiatorEvents.OfType<IkeSaClosed>()).Reason);
        Assert.DoesNotContain(Exchanges(pair.SentByInitiator), e => e.Exchange == ExchangeType.IkeIntermediate);
    }

    [Fact]
    public void An_initiator_offering_hybrid_then_classic_gets_classic_from_a_classic_responder_without_intermediate_exchanges()
    {
        var hybrid = Hybrid("aes128gcm16-prfsha256-x25519-ke1_mlkem768");
        var pair = new EnginePair(Initiator([hybrid, GcmX25519], [EspGcm]), Responder(GcmX25519, EspGcm));
        pair.Start();
        pair.RunUntilQuiet();

        Assert.Equal(IkeSessionState.Established, pair.Initiator.State);
        Assert.Equal(GcmX25519, Assert.Single(pair.InitiatorEvents.OfType<IkeSaEstablished>()).Suite);
        Assert.DoesNotContain(Exchanges(pair.SentByInitiator), e => e.Exchange == ExchangeType.IkeIntermediate);
    }

    [Theory]
    [InlineData(0.3, false, 3)]
    [InlineData(0.2, true, 11)]
    public void Lost_and_duplicated_intermediate_messages_still_establish(double loss, bool duplicate, int seed)
    {
        var suite = Hybrid("aes256gcm16-prfsha384-x25519-ke1_mlkem768");
        var random = new Random(seed);
        var pair = new EnginePair(Initiator(suite, EspGcm), Responder(suite, EspGcm), seed)
        {
            Copies = (_, _) => random.NextDouble() < loss ? 0 : duplicate && random.NextDouble() < 0.3 ? 2 : 1,
        };
        pair.Start();
        pair.RunUntilQuiet();

        IkeExchangeTests.AssertEstablishedPair(pair, suite, EspGcm);
    }

    [Fact]
    public void Proposal_names_round_trip_through_strongswans_notation()
    {
        var suite = Hybrid("aes256gcm16-prfsha384-x25519-ke1_mlkem768-ke3_mlkem1024");
        Assert.Equal(DhGroup.MlKem768, suite.AdditionalKeyExchanges[1]);
        Assert.Equal(DhGroup.None, suite.AdditionalKeyExchanges[2]);
        Assert.Equal(DhGroup.MlKem1024, suite.AdditionalKeyExchanges[3]);
        Assert.EndsWith("-ke1_mlkem768-ke3_mlkem1024", suite.ToString());
        Assert.False(IkeSuiteNames.TryParseIke("aes256gcm16-x25519-ke1_mlkem768-ke1_mlkem512", out _, out var twice));
        Assert.Contains("more than one method for ke1", twice);
        Assert.False(IkeSuiteNames.TryParseIke("aes256gcm16-x25519-ke8_mlkem768", out _, out _));
        Assert.False(SuiteNames.TryParseEsp("aes256gcm16-ke1_mlkem768", out _, out var esp));
        Assert.Contains("additional key exchanges", esp);
    }

    [Theory]
    [InlineData(true, "aes256gcm16-prfsha384-x25519-ke1_mlkem768")]
    [InlineData(false, "aes256gcm16-prfsha384-x25519-ke1_mlkem768")]
    [InlineData(true, "aes128gcm16-prfsha256-x25519-ke1_mlkem512-ke2_mlkem1024")]
    [InlineData(false, "aes128gcm16-prfsha256-x25519-ke1_mlkem512-ke2_mlkem1024")]
    public void An_ike_sa_rekey_runs_the_additional_key_exchanges_again_in_ike_followup_ke(bool fromInitiator, string proposal)
    {
        var suite = Hybrid(proposal);
        var recorder = new RecordingKeyExchangeProvider();
        var pair = new EnginePair(Initiator(suite, EspGcm), Responder(suite, EspGcm), keyExchange: recorder);
        pair.Start();
        pair.RunUntilQuiet();
        var child = pair.Initiator.ChildSas.Single();
        var oldSkD = IkeKeys(pair, fromInitiator).SkD.ToArray();
        int sentBefore = (fromInitiator ? pair.SentByInitiator : pair.SentByResponder).Count;
        recorder.Secrets.Clear();

        (fromInitiator ? pair.Initiator : pair.Responder).RekeyIkeSa();
        pair.RunUntilQuiet();

        var rekeyed = Assert.Single(pair.InitiatorEvents.OfType<IkeSaRekeyed>());
        Assert.Equal(rekeyed, Assert.Single(pair.ResponderEvents.OfType<IkeSaRekeyed>()));
        Assert.Empty(pair.InitiatorEvents.OfType<IkeSaClosed>());
        // CREATE_CHILD_SA, one IKE_FOLLOWUP_KE per additional key exchange, then the old IKE SA's delete.
        var requests = Exchanges((fromInitiator ? pair.SentByInitiator : pair.SentByResponder).Skip(sentBefore)).Select(e => e.Exchange).ToList();
        var expected = new List<ExchangeType> { ExchangeType.CreateChildSa };
        expected.AddRange(Enumerable.Repeat(ExchangeType.IkeFollowupKe, suite.AdditionalKeyExchanges.InExchangeOrder().Count));
        expected.Add(ExchangeType.Informational);
        Assert.Equal(expected, requests);

        // RFC 9370 2.2.4: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr | SK(1) | ... | SK(n)); each secret was recorded
        // twice, by the responder and then the initiator of its exchange.
        var secrets = recorder.Secrets.Where((_, i) => i % 2 == 0).Select(s => s.Secret).ToList();
        Assert.Equal(1 + suite.AdditionalKeyExchanges.InExchangeOrder().Count, secrets.Count);
        var keys = IkeKeys(pair, fromInitiator);
        var (ni, nr) = ((fromInitiator ? pair.Initiator : pair.Responder).CurrentNonces.Initiator.ToArray(),
            (fromInitiator ? pair.Initiator : pair.Responder).CurrentNonces.Responder.ToArray());
        var input = secrets[0].Concat(ni).Concat(nr).Concat(secrets.Skip(1).SelectMany(s => s)).ToArray();
        var prf = suite.CreatePrf();
        var skeyseed = prf.Compute(oldSkD, input);
        using var expectedKeys = IkeKeyDerivation.DeriveIkeSaKeys(suite, skeyseed, ni, nr, rekeyed.InitiatorSpi, rekeyed.ResponderSpi);
        Assert.Equal(Convert.ToHexString(expectedKeys.SkD), Convert.ToHexString(keys.SkD));

        // The new IKE SA carries on: a CHILD_SA rekey over it.
        pair.Initiator.RekeyChildSa(child.InboundSpi);
        pair.RunUntilQuiet();
        IkeExchangeTests.AssertMirror(pair.Initiator.ChildSas.Single(), pair.Responder.ChildSas.Single());
    }

    private static IkeSaKeys IkeKeys(EnginePair pair, bool initiator) => (initiator ? pair.Initiator : pair.Responder).CurrentIkeSaKeys!;
}
