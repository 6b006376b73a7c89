using System.Buffers.Binary;
using System.Net;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// CREATE_CHILD_SA (RFC 7296 1.3): new CHILD_SAs, CHILD_SA rekey (1.3.3) with collision handling (2.8.1),
/// and IKE SA rekey (1.3.2, 2.18).
/// </summary>
public sealed partial class IkeSession
{
    private IkeSaRekeyRequest? _ikeRekey;

    // ---- as the initiator of the exchange ----

    private ChildSaRequest NewChildRequest(ChildSaState? rekeying, bool withKe)
    {
        var request = new ChildSaRequest
        {
            InboundSpi = NewChildSpi(),
            Nonce = NewNonce(),
            InitiatorSelectors = rekeying?.Sa.LocalSelectors ?? _config.Child.LocalSelectors,
            ResponderSelectors = rekeying?.Sa.RemoteSelectors ?? _config.Child.RemoteSelectors,
            Rekeying = rekeying,
        };
        // PFS (RFC 7296 1.3.1): a KE for the first proposal's group, if it names one.
        if (withKe && _config.Child.Proposals[0].DhGroup != DhGroup.None)
            request.KeyExchange = _services.KeyExchange.Create(_config.Child.Proposals[0].DhGroup);
        return request;
    }

    private void StartRekeyChildSa(uint inboundSpi)
    {
        var child = FindChildByInbound(inboundSpi);
        if (child is null || child.Deleted || child.Deleting || child.Replaced || child.Rekeying) return;
        child.Rekeying = true;
        StartCreateChildSa(child);
    }

    private void StartCreateChildSa(ChildSaState? rekeying) => SendChildSaRequest(NewChildRequest(rekeying, withKe: true));

    private void SendChildSaRequest(ChildSaRequest child)
    {
        var payloads = new List<IkePayload>();
        if (child.Rekeying is { } old)
            payloads.Add(new NotifyPayload(NotifyType.RekeySa) { Protocol = ProtocolId.Esp, Spi = ProposalSelection.SpiBytes(old.Sa.InboundSpi) });
        if (_config.Child.Mode == ChildSaMode.Transport)
            payloads.Add(StatusNotifies.UseTransportMode);
        payloads.Add(ProposalSelection.ToSaPayload(_config.Child.Proposals, child.InboundSpi, includeDh: true));
        payloads.Add(new NoncePayload(child.Nonce));
        if (child.KeyExchange is { } ke)
            payloads.Add(new KeyExchangePayload(ke.Group, ke.PublicKey.ToArray()));
        payloads.Add(new TrafficSelectorPayload(true, child.InitiatorSelectors));
        payloads.Add(new TrafficSelectorPayload(false, child.ResponderSelectors));
        SendRequest(_sa, ExchangeType.CreateChildSa, payloads, (sa, response, inner) => CompleteChildSaRequest(sa, child, inner, response));
    }

    /// <summary>The answer to our IKE_AUTH child (response null) or CREATE_CHILD_SA request.</summary>
    private void CompleteChildSaRequest(IkeSaState sa, ChildSaRequest child, List<IkePayload> payloads, IkeMessage? response)
    {
        var isIkeAuth = response is null;
        if (FirstError(payloads) is { } error)
        {
            if (!isIkeAuth && error.NotifyType == NotifyType.InvalidKePayload && error.Data.Length == 2 && child.InvalidKeRetries++ < 2)
            {
                var group = InvalidKePayload.WantedGroup(error);
                if (ProposesChildGroup(group))
                {
                    child.KeyExchange?.Dispose();
                    child.KeyExchange = _services.KeyExchange.Create(group);
                    SendChildSaRequest(child);
                    return;
                }
            }
            child.KeyExchange?.Dispose();
            if (child.Rekeying is { } busy)
            {
                busy.Rekeying = false;
                // RFC 7296 2.25: TEMPORARY_FAILURE means try again a little later.
                if (error.NotifyType == NotifyType.TemporaryFailure) busy.RekeyAt = _services.Clock.UtcNow + RetryDelay();
            }
            Emit(new ChildSaFailed(error.NotifyType, $"CHILD_SA refused by the peer: {error.NotifyType}"));
            return;
        }

        var saPayload = Find<SecurityAssociationPayload>(payloads);
        var tsi = FindTs(payloads, initiator: true);
        var tsr = FindTs(payloads, initiator: false);
        var nonce = Find<NoncePayload>(payloads);
        var suite = saPayload is null ? null : ProposalSelection.AcceptedEsp(saPayload, _config.Child.Proposals, matchDh: !isIkeAuth);
        string? problem = saPayload is null || tsi is null || tsr is null ? "response lacks SA or TS"
            : suite is null ? "responder chose an ESP proposal we did not make"
            : !isIkeAuth && (nonce is null || !ValidNonce(nonce)) ? "response lacks Nr"
            : !TrafficSelectorNarrowing.AllWithin(tsi.Selectors, child.InitiatorSelectors)
              || !TrafficSelectorNarrowing.AllWithin(tsr.Selectors, child.ResponderSelectors) ? "responder widened the traffic selectors"
            : null;

        byte[]? sharedSecret = null;
        if (problem is null && !isIkeAuth && suite!.DhGroup != DhGroup.None)
        {
            var ke = Find<KeyExchangePayload>(payloads);
            if (child.KeyExchange is null || ke is null || ke.Group != child.KeyExchange.Group) problem = "response lacks the KE our PFS group needs";
            else
            {
                try { sharedSecret = child.KeyExchange.DeriveSharedSecret(ke.Data.Span); }
                catch (InvalidKeyExchangeException e) { problem = e.Message; }
            }
        }
        child.KeyExchange?.Dispose();

        if (problem is not null)
        {
            if (child.Rekeying is { } busy) busy.Rekeying = false;
            Emit(new ChildSaFailed(NotifyType.InvalidSyntax, problem));
            return;
        }

        var peerSpi = ProposalSelection.SpiOf(saPayload!.Proposals[0]);
        var nonceI = isIkeAuth ? sa.NonceI : child.Nonce;
        var nonceR = isIkeAuth ? sa.NonceR : nonce!.Nonce.ToArray();
        var mode = _config.Child.Mode == ChildSaMode.Transport && FindNotify(payloads, NotifyType.UseTransportMode) is not null
            ? ChildSaMode.Transport : ChildSaMode.Tunnel;
        var created = InstallChildSa(sa, suite!, child.InboundSpi, peerSpi, nonceI, nonceR, sharedSecret, weInitiatedExchange: true,
            local: tsi!.Selectors, remote: tsr!.Selectors, mode);

        if (child.Rekeying is not { } old)
        {
            Emit(new ChildSaEstablished(created.Sa));
            return;
        }
        old.Rekeying = false;
        old.Replaced = true;
        old.OurSuccessor = created;
        Emit(new ChildSaRekeyed(old.Sa.InboundSpi, created.Sa));
        ResolveChildRekey(old);
    }

    /// <summary>
    /// RFC 7296 2.8: whoever initiated the surviving rekey deletes the old CHILD_SA; when both sides
    /// rekeyed it at once (2.8.1), the new CHILD_SA with the lowest nonce is redundant and its initiator deletes it.
    /// </summary>
    private void ResolveChildRekey(ChildSaState old)
    {
        if (old.OurSuccessor is not { } ours) return;
        if (old.PeerSuccessor is not { } theirs)
        {
            Enqueue(new LocalTask(LocalTaskKind.DeleteChildSa, old.Sa.InboundSpi));
            return;
        }
        var oursRedundant = LowestNonce.IsInFirst(ours.NonceI, ours.NonceR, theirs.NonceI, theirs.NonceR);
        if (oursRedundant) Enqueue(new LocalTask(LocalTaskKind.DeleteChildSa, ours.Sa.InboundSpi));
        else Enqueue(new LocalTask(LocalTaskKind.DeleteChildSa, old.Sa.InboundSpi));
    }

    // ---- as the responder of the exchange ----

    private void HandleCreateChildSaRequest(IkeSaState sa, IkeMessage request, List<IkePayload> payloads)
    {
        var saPayload = Find<SecurityAssociationPayload>(payloads);
        if (saPayload is not null && saPayload.Proposals.Count > 0 && saPayload.Proposals[0].Protocol == ProtocolId.Ike)
        {
            HandleIkeRekeyRequest(sa, request, saPayload, payloads);
            return;
        }
        if (_ikeRekey is not null || _peerIkeRekey is not null || sa != _sa || sa.Deleting)
        {
            // RFC 7296 2.25: no new CHILD_SAs on an IKE SA being rekeyed or deleted.
            SendResponse(sa, request, [new NotifyPayload(NotifyType.TemporaryFailure)]);
            return;
        }

        ChildSaState? rekeyed = null;
        if (FindNotify(payloads, NotifyType.RekeySa) is { } rekey)
        {
            var spi = rekey.Spi.Length == 4 ? BinaryPrimitives.ReadUInt32BigEndian(rekey.Spi.Span) : 0;
            rekeyed = FindChildByOutbound(spi);
            if (rekeyed is null || rekeyed.Deleted)
            {
                SendResponse(sa, request, [new NotifyPayload(NotifyType.ChildSaNotFound) { Protocol = ProtocolId.Esp, Spi = rekey.Spi }]);
                return;
            }
            if (rekeyed.Deleting)
            {
                SendResponse(sa, request, [new NotifyPayload(NotifyType.TemporaryFailure)]);
                return;
            }
        }

        var response = new List<IkePayload>();
        AnswerChildSaRequest(sa, payloads, response, rekeyed, isIkeAuth: false);
        SendResponse(sa, request, response);
    }

    /// <summary>
    /// Chooses a proposal, narrows the selectors and creates the CHILD_SA the initiator asked for, appending
    /// SA, [Nr, KEr,] TSi, TSr to <paramref name="response"/> - or the error notify that refuses it.
    /// </summary>
    private void AnswerChildSaRequest(IkeSaState sa, List<IkePayload> request, List<IkePayload> response, ChildSaState? rekeyed, bool isIkeAuth)
    {
        var saPayload = Find<SecurityAssociationPayload>(request);
        var tsi = FindTs(request, initiator: true);
        var tsr = FindTs(request, initiator: false);
        var nonce = Find<NoncePayload>(request);
        if (saPayload is null || tsi is null || tsr is null)
        {
            if (isIkeAuth && saPayload is null && tsi is null && tsr is null) return; // childless IKE SA (RFC 6023)
            Refuse(response, NotifyType.InvalidSyntax, "CHILD_SA request lacks SA or TS", isIkeAuth);
            return;
        }
        if (!isIkeAuth && (nonce is null || !ValidNonce(nonce)))
        {
            Refuse(response, NotifyType.InvalidSyntax, "CREATE_CHILD_SA request lacks Ni", isIkeAuth);
            return;
        }
        if (ProposalSelection.SelectEsp(saPayload, _config.Child.Proposals, matchDh: !isIkeAuth) is not { } choice)
        {
            Refuse(response, NotifyType.NoProposalChosen, "no acceptable ESP proposal", isIkeAuth);
            return;
        }

        IKeyExchange? keyExchange = null;
        if (!isIkeAuth && choice.Suite.DhGroup != DhGroup.None)
        {
            var ke = Find<KeyExchangePayload>(request);
            if (ke is null || ke.Group != choice.Suite.DhGroup)
            {
                response.Add(InvalidKePayload.Create(choice.Suite.DhGroup));
                return;
            }
            keyExchange = _services.KeyExchange.Create(choice.Suite.DhGroup);
        }

        // RFC 7296 2.9: TSi is the initiator's side, so it is narrowed by our remote selectors.
        var narrowedI = TrafficSelectorNarrowing.Narrow(tsi.Selectors, _config.Child.RemoteSelectors);
        var narrowedR = TrafficSelectorNarrowing.Narrow(tsr.Selectors, _config.Child.LocalSelectors);
        if (narrowedI.Count == 0 || narrowedR.Count == 0)
        {
            keyExchange?.Dispose();
            Refuse(response, NotifyType.TsUnacceptable, "traffic selectors outside our policy", isIkeAuth);
            return;
        }

        byte[]? sharedSecret = null;
        if (keyExchange is not null)
        {
            try { sharedSecret = keyExchange.DeriveSharedSecret(Find<KeyExchangePayload>(request)!.Data.Span); }
            catch (InvalidKeyExchangeException e)
            {
                keyExchange.Dispose();
                Refuse(response, NotifyType.InvalidSyntax, e.Message, isIkeAuth);
                return;
            }
        }

        var ourSpi = NewChildSpi();
        var peerSpi = ProposalSelection.SpiOf(choice.Proposal);
        var nonceI = isIkeAuth ? sa.NonceI : nonce!.Nonce.ToArray();
        var nonceR = isIkeAuth ? sa.NonceR : NewNonce();
        var transport = _config.Child.Mode == ChildSaMode.Transport && FindNotify(request, NotifyType.UseTransportMode) is not null;

        response.Add(new SecurityAssociationPayload([ProposalSelection.ToProposal(choice.Suite, choice.Proposal.Number, ourSpi, includeDh: !isIkeAuth)]));
        if (!isIkeAuth) response.Add(new NoncePayload(nonceR));
        if (keyExchange is not null)
        {
            response.Add(new KeyExchangePayload(keyExchange.Group, keyExchange.PublicKey.ToArray()));
            keyExchange.Dispose();
        }
        if (transport) response.Add(StatusNotifies.UseTransportMode);
        response.Add(new TrafficSelectorPayload(true, narrowedI));
        response.Add(new TrafficSelectorPayload(false, narrowedR));

        var created = InstallChildSa(sa, choice.Suite, ourSpi, peerSpi, nonceI, nonceR, sharedSecret, weInitiatedExchange: false,
            local: narrowedR, remote: narrowedI, transport ? ChildSaMode.Transport : ChildSaMode.Tunnel);

        if (rekeyed is null)
        {
            Emit(new ChildSaEstablished(created.Sa));
            return;
        }
        rekeyed.PeerSuccessor = created;
        rekeyed.Replaced = true;
        Emit(new ChildSaRekeyed(rekeyed.Sa.InboundSpi, created.Sa));
        // A collision is settled when our own rekey of it completes; if that already happened, settle it now.
        if (!rekeyed.Rekeying && rekeyed.OurSuccessor is { } ours
            && LowestNonce.IsInFirst(ours.NonceI, ours.NonceR, created.NonceI, created.NonceR))
            Enqueue(new LocalTask(LocalTaskKind.DeleteChildSa, ours.Sa.InboundSpi));
    }

    private void Refuse(List<IkePayload> response, NotifyType error, string detail, bool isIkeAuth)
    {
        response.Add(new NotifyPayload(error));
        if (isIkeAuth) Emit(new ChildSaFailed(error, detail));
    }

    private ChildSaState InstallChildSa(IkeSaState sa, EspSuite suite, uint inboundSpi, uint outboundSpi, byte[] nonceI, byte[] nonceR,
        byte[]? sharedSecret, bool weInitiatedExchange, IReadOnlyList<TrafficSelector> local, IReadOnlyList<TrafficSelector> remote, ChildSaMode mode)
    {
        // The derived keys' arrays become the CHILD_SA's (no copies, nothing left to zero here): ChildSaKeys holds nothing else.
        var material = IkeKeyDerivation.DeriveChildSaKeys(sa.Keys!, suite, sharedSecret ?? [], nonceI, nonceR);
        if (sharedSecret is not null) System.Security.Cryptography.CryptographicOperations.ZeroMemory(sharedSecret);
        // RFC 7296 2.17: the initiator-to-responder keys come first, "initiator" being the exchange's.
        var keys = weInitiatedExchange
            ? new ChildSaSecrets
            {
                OutboundEncryptionKey = material.InitiatorEncryptionKey,
                OutboundIntegrityKey = material.InitiatorIntegrityKey,
                InboundEncryptionKey = material.ResponderEncryptionKey,
                InboundIntegrityKey = material.ResponderIntegrityKey,
            }
            : new ChildSaSecrets
            {
                OutboundEncryptionKey = material.ResponderEncryptionKey,
                OutboundIntegrityKey = material.ResponderIntegrityKey,
                InboundEncryptionKey = material.InitiatorEncryptionKey,
                InboundIntegrityKey = material.InitiatorIntegrityKey,
            };
        var encapsulated = _natDetected;
        var childSa = new ChildSa
        {
            InboundSpi = inboundSpi,
            OutboundSpi = outboundSpi,
            Suite = suite,
            Keys = keys,
            LocalSelectors = local,
            RemoteSelectors = remote,
            Mode = mode,
            UdpEncapsulation = encapsulated,
            LocalEndpoint = new IPEndPoint(_config.LocalEndpoint.Address, encapsulated ? _config.LocalNatTraversalPort : 0),
            RemoteEndpoint = new IPEndPoint(_config.RemoteEndpoint.Address, encapsulated ? _config.RemoteNatTraversalPort : 0),
            RekeyAfter = _config.Child.RekeyAfter,
            ExpireAfter = _config.Child.ExpireAfter,
            IkeInitiatorSpi = sa.InitiatorSpi,
            IkeResponderSpi = sa.ResponderSpi,
        };
        var state = new ChildSaState(childSa, nonceI, nonceR);
        if (_config.Child.RekeyAfter is { } rekeyAfter) state.RekeyAt = _services.Clock.UtcNow + rekeyAfter;
        _children.Add(state);
        return state;
    }

    // ---- IKE SA rekey (RFC 7296 1.3.2, 2.18) ----

    private void StartRekeyIkeSa()
    {
        if (_ikeRekey is not null || _peerIkeRekey is not null || _oldSa is not null) return;
        var suite = _sa.Suite!;
        var rekey = new IkeSaRekeyRequest { Spi = NewIkeSpi(), Nonce = NewNonce(), KeyExchange = _services.KeyExchange.Create(suite.DhGroup) };
        _ikeRekey = rekey;
        SendIkeRekeyRequest(rekey);
    }

    private void SendIkeRekeyRequest(IkeSaRekeyRequest rekey)
    {
        var spi = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(spi, rekey.Spi);
        // Our current suite first: the responder will most likely take it, and our KE is for its group.
        var proposals = new List<IkeSuite> { _sa.Suite! };
        foreach (var s in _config.IkeProposals) if (!s.Equals(_sa.Suite)) proposals.Add(s);
        List<IkePayload> payloads =
        [
            ProposalSelection.ToSaPayload(proposals, spi),
            new NoncePayload(rekey.Nonce),
            new KeyExchangePayload(rekey.KeyExchange.Group, rekey.KeyExchange.PublicKey.ToArray()),
        ];
        SendRequest(_sa, ExchangeType.CreateChildSa, payloads, (sa, _, inner) => CompleteIkeRekey(sa, rekey, inner));
    }

    private void CompleteIkeRekey(IkeSaState old, IkeSaRekeyRequest rekey, List<IkePayload> payloads)
    {
        if (FirstError(payloads) is { } error)
        {
            if (error.NotifyType == NotifyType.InvalidKePayload
                && InvalidKePayload.WantedGroup(error) is var group && ProposesGroup(group) && group != rekey.KeyExchange.Group)
            {
                rekey.KeyExchange.Dispose();
                rekey.KeyExchange = _services.KeyExchange.Create(group);
                SendIkeRekeyRequest(rekey);
                return;
            }
            rekey.KeyExchange.Dispose();
            _ikeRekey = null;
            // The old IKE SA carries on; try again later (RFC 7296 2.25 for TEMPORARY_FAILURE).
            _ikeRekeyAt = _services.Clock.UtcNow + RetryDelay();
            Emit(new IkeMessageDropped(IkeDropReason.UnexpectedExchange, $"IKE SA rekey refused: {error.NotifyType}"));
            return;
        }
        var saPayload = Find<SecurityAssociationPayload>(payloads);
        var nonce = Find<NoncePayload>(payloads);
        var ke = Find<KeyExchangePayload>(payloads);
        var suite = saPayload is null ? null : ProposalSelection.AcceptedIke(saPayload, _config.IkeProposals);
        var link = FindNotify(payloads, NotifyType.AdditionalKeyExchange);
        byte[]? shared = null;
        string? problem = suite is null || nonce is null || ke is null || !ValidNonce(nonce) || saPayload!.Proposals[0].Spi.Length != 8
            ? "IKE SA rekey response lacks SA, Nr or KE"
            : ke.Group != rekey.KeyExchange.Group || suite.DhGroup != ke.Group ? "IKE SA rekey response uses another DH group"
            : !suite.AdditionalKeyExchanges.IsEmpty && link is null ? "IKE SA rekey response chose additional key exchanges without ADDITIONAL_KEY_EXCHANGE (RFC 9370 2.2.4)"
            : null;
        if (problem is null)
        {
            try { shared = rekey.KeyExchange.DeriveSharedSecret(ke!.Data.Span); }
            catch (InvalidKeyExchangeException e) { problem = e.Message; }
        }
        rekey.KeyExchange.Dispose();
        if (problem is not null)
        {
            _ikeRekey = null;
            CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, problem);
            return;
        }

        var fresh = new IkeSaState
        {
            InitiatorSpi = rekey.Spi,
            ResponderSpi = BinaryPrimitives.ReadUInt64BigEndian(saPayload!.Proposals[0].Spi.Span),
            WeAreInitiator = true,
            NonceI = rekey.Nonce,
            NonceR = nonce!.Nonce.ToArray(),
        };
        if (!suite!.AdditionalKeyExchanges.IsEmpty)
        {
            rekey.FollowUp = new IkeRekeyInProgress
            {
                Fresh = fresh,
                Suite = suite,
                FirstSecret = shared!,
                Remaining = new Queue<DhGroup>(suite.AdditionalKeyExchanges.InExchangeOrder()),
                Link = link!.Data.ToArray(),
            };
            SendIkeFollowupKeRequest(old, rekey);
            return;
        }
        _ikeRekey = null;
        InstallRekeyedIkeSa(old, fresh, suite, shared!);
        SwitchToRekeyedSa(old, fresh);
        // RFC 7296 2.18: the initiator of the rekey deletes the old IKE SA.
        StartDeleteOldIkeSa();
    }

    private void HandleIkeRekeyRequest(IkeSaState sa, IkeMessage request, SecurityAssociationPayload saPayload, List<IkePayload> payloads)
    {
        if (sa != _sa || _oldSa is not null || _ikeRekey is not null || _peerIkeRekey is not null || sa.Deleting)
        {
            // Simultaneous IKE SA rekeys (RFC 7296 2.8.2) are settled the simple way: refuse, and the
            // initiator retries after a random delay (RFC 7296 2.25).
            SendResponse(sa, request, [new NotifyPayload(NotifyType.TemporaryFailure)]);
            return;
        }
        var nonce = Find<NoncePayload>(payloads);
        var ke = Find<KeyExchangePayload>(payloads);
        if (ProposalSelection.SelectIke(saPayload, _config.IkeProposals) is not { } choice || choice.Proposal.Spi.Length != 8)
        {
            SendResponse(sa, request, [new NotifyPayload(NotifyType.NoProposalChosen)]);
            return;
        }
        if (nonce is null || !ValidNonce(nonce) || ke is null)
        {
            SendResponse(sa, request, [new NotifyPayload(NotifyType.InvalidSyntax)]);
            return;
        }
        if (ke.Group != choice.Suite.DhGroup)
        {
            SendResponse(sa, request, [InvalidKePayload.Create(choice.Suite.DhGroup)]);
            return;
        }
        using var keyExchange = _services.KeyExchange.Create(choice.Suite.DhGroup);
        byte[] shared;
        try { shared = keyExchange.DeriveSharedSecret(ke.Data.Span); }
        catch (InvalidKeyExchangeException)
        {
            SendResponse(sa, request, [new NotifyPayload(NotifyType.InvalidSyntax)]);
            return;
        }
        var fresh = new IkeSaState
        {
            InitiatorSpi = BinaryPrimitives.ReadUInt64BigEndian(choice.Proposal.Spi.Span),
            ResponderSpi = NewIkeSpi(),
            WeAreInitiator = false,
            NonceI = nonce.Nonce.ToArray(),
            NonceR = NewNonce(),
        };
        var spi = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(spi, fresh.ResponderSpi);
        List<IkePayload> response =
        [
            new SecurityAssociationPayload([ProposalSelection.ToProposal(choice.Suite, choice.Proposal.Number, spi)]),
            new NoncePayload(fresh.NonceR),
            new KeyExchangePayload(keyExchange.Group, keyExchange.PublicKey.ToArray()),
        ];
        if (!choice.Suite.AdditionalKeyExchanges.IsEmpty)
        {
            // RFC 9370 2.2.4: the new IKE SA waits for its additional key exchanges in IKE_FOLLOWUP_KE.
            _peerIkeRekey = new IkeRekeyInProgress
            {
                Fresh = fresh,
                Suite = choice.Suite,
                FirstSecret = shared,
                Remaining = new Queue<DhGroup>(choice.Suite.AdditionalKeyExchanges.InExchangeOrder()),
                Link = NewFollowupLink(),
            };
            response.Add(new NotifyPayload(NotifyType.AdditionalKeyExchange, _peerIkeRekey.Link));
            SendResponse(sa, request, response);
            return;
        }
        SendResponse(sa, request, response);
        InstallRekeyedIkeSa(sa, fresh, choice.Suite, shared);
        SwitchToRekeyedSa(sa, fresh);
        // The peer deletes the old IKE SA; we keep it until then.
    }

    private void InstallRekeyedIkeSa(IkeSaState old, IkeSaState fresh, IkeSuite suite, byte[] sharedSecret, byte[]? additionalSecrets = null)
    {
        // RFC 7296 2.18: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), with the old IKE SA's PRF; RFC 9370 2.2.4 appends
        // the additional key exchanges' secrets SK(1) | ... | SK(n).
        var keys = IkeKeyDerivation.DeriveRekeyedIkeSaKeys(old.Keys!, suite, sharedSecret, fresh.NonceI, fresh.NonceR, fresh.InitiatorSpi, fresh.ResponderSpi,
            additionalSecrets);
        if (additionalSecrets is not null) System.Security.Cryptography.CryptographicOperations.ZeroMemory(additionalSecrets);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(sharedSecret);
        InstallIkeSaKeys(fresh, suite, keys);
        fresh.PeerSupportsFragmentation = old.PeerSupportsFragmentation;
    }

    private void SwitchToRekeyedSa(IkeSaState old, IkeSaState fresh)
    {
        _oldSa = old;
        _sa = fresh;
        if (_config.IkeRekeyAfter is { } rekey) _ikeRekeyAt = _services.Clock.UtcNow + rekey;
        Emit(new IkeSaRekeyed(old.InitiatorSpi, old.ResponderSpi, fresh.InitiatorSpi, fresh.ResponderSpi));
        // A request still waiting on the old IKE SA is answered there; new work goes to the new one.
    }

    private void DiscardOldSa()
    {
        _oldSa?.ClearKeys();
        _oldSa = null;
        RunTasks();
    }

    // ---- helpers ----

    private ChildSaState? FindChildByInbound(uint spi)
    {
        foreach (var c in _children) if (c.Sa.InboundSpi == spi && !c.Deleted) return c;
        return null;
    }

    private ChildSaState? FindChildByOutbound(uint spi)
    {
        foreach (var c in _children) if (c.Sa.OutboundSpi == spi && !c.Deleted) return c;
        return null;
    }

    private static TrafficSelectorPayload? FindTs(List<IkePayload> payloads, bool initiator)
    {
        foreach (var p in payloads) if (p is TrafficSelectorPayload t && t.IsInitiator == initiator) return t;
        return null;
    }

    private bool ProposesChildGroup(DhGroup group)
    {
        foreach (var s in _config.Child.Proposals) if (s.DhGroup == group) return true;
        return false;
    }

    /// <summary>A random 1-3 s wait before retrying after TEMPORARY_FAILURE, so two peers do not collide again.</summary>
    private TimeSpan RetryDelay()
    {
        Span<byte> b = stackalloc byte[2];
        _services.Random.Fill(b);
        return TimeSpan.FromMilliseconds(1000 + BinaryPrimitives.ReadUInt16BigEndian(b) % 2000);
    }
}
