using System.Buffers.Binary;
using System.Net;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>IKE_SA_INIT (RFC 7296 1.2): proposals, Diffie-Hellman, nonces; COOKIE (2.6) and INVALID_KE_PAYLOAD (1.2) round trips; NAT detection (2.23).</summary>
public sealed partial class IkeSession
{
    private const int MaxIkeSaInitRetries = 4;

    private IKeyExchange? _keyExchange;
    private byte[]? _cookie;
    private int _ikeSaInitRetries;
    private byte[] _realMessage1 = [];
    private byte[] _realMessage2 = [];
    private bool _natDetected;
    /// <summary>The peer's SIGNATURE_HASH_ALGORITHMS (RFC 7427 4), null when it sent none.</summary>
    private IReadOnlyList<SignatureHashAlgorithm>? _peerSignatureHashes;
    private CertificateRequestData? _peerCertificateRequest;

    private void SendIkeSaInitRequest()
    {
        State = IkeSessionState.Initializing;
        var group = _keyExchange?.Group ?? _config.IkeProposals[0].DhGroup;
        _keyExchange ??= _services.KeyExchange.Create(group);
        if (_sa.NonceI.Length == 0) _sa.NonceI = NewNonce();

        var payloads = new List<IkePayload>(10); // sized for all below: one array, not three
        if (_cookie is not null) payloads.Add(new NotifyPayload(NotifyType.Cookie, _cookie)); // RFC 7296 2.6: first payload
        payloads.Add(ProposalSelection.ToSaPayload(_config.IkeProposals, ReadOnlyMemory<byte>.Empty));
        payloads.Add(new KeyExchangePayload(group, _keyExchange.PublicKey.ToArray()));
        payloads.Add(new NoncePayload(_sa.NonceI));
        AddNatDetection(payloads, _sa.InitiatorSpi, 0);
        payloads.Add(StatusNotifies.FragmentationSupported);
        payloads.Add(SignatureHashAlgorithms.CreateNotify());
        if (ProposesAdditionalKeyExchanges()) payloads.Add(StatusNotifies.IntermediateExchangeSupported);

        var request = new IkeMessage
        {
            InitiatorSpi = _sa.InitiatorSpi,
            ResponderSpi = 0,
            Exchange = ExchangeType.IkeSaInit,
            Flags = IkeFlags.Initiator,
            MessageId = 0,
            Payloads = payloads,
        };
        _realMessage1 = IkeCodec.Encode(request);
        _sa.NextRequestId = 1;
        _sa.Outstanding = new PendingRequest
        {
            MessageId = 0,
            Exchange = ExchangeType.IkeSaInit,
            Datagrams = [_realMessage1],
            NatTraversal = false,
            OnResponse = static (_, _, _) => { },
            RetransmitAt = _services.Clock.UtcNow + _config.Retransmission.TimeoutFor(1),
        };
        ExchangeStarted(ExchangeType.IkeSaInit, 0, weRequested: true);
        Send(_realMessage1, false);
    }

    private void HandleIkeSaInitResponse(IkeMessage response)
    {
        if (!IsOriginalInitiator || State != IkeSessionState.Initializing || response.InitiatorSpi != _sa.InitiatorSpi
            || response.MessageId != 0 || response.IsFromInitiator)
        {
            Drop(IkeDropReason.UnexpectedExchange, "IKE_SA_INIT response not awaited");
            return;
        }
        _lastHeard = _services.Clock.UtcNow;
        ExchangeEnded(ExchangeType.IkeSaInit, 0, weRequested: true,
            response.FindNotify(NotifyType.Cookie) is not null ? "cookie" : IkeMetrics.ResultOf(response.Payloads));

        if (response.FindNotify(NotifyType.Cookie) is { } cookie)
        {
            // RFC 7296 2.6: same request again, the cookie first.
            IkeMetrics.Cookie("received");
            if (cookie.Data.Length is < 1 or > 64 || ++_ikeSaInitRetries > MaxIkeSaInitRetries)
            {
                CloseNow(IkeCloseReason.ProtocolError, NotifyType.Cookie, "unusable or repeated COOKIE");
                return;
            }
            _cookie = cookie.Data.ToArray();
            SendIkeSaInitRequest();
            return;
        }

        if (response.FindNotify(NotifyType.InvalidKePayload) is { } invalidKe)
        {
            // RFC 7296 1.2: retry with the group the responder asked for, if we proposed it.
            var wanted = InvalidKePayload.WantedGroup(invalidKe);
            if (!ProposesGroup(wanted) || wanted == _keyExchange!.Group || ++_ikeSaInitRetries > MaxIkeSaInitRetries)
            {
                CloseNow(IkeCloseReason.NoProposalChosen, NotifyType.InvalidKePayload, $"responder wants DH group {wanted}");
                return;
            }
            _keyExchange.Dispose();
            _keyExchange = _services.KeyExchange.Create(wanted);
            SendIkeSaInitRequest();
            return;
        }

        if (FirstError(response.Payloads) is { } error)
        {
            CloseNow(error.NotifyType == NotifyType.NoProposalChosen ? IkeCloseReason.NoProposalChosen : IkeCloseReason.PeerError,
                error.NotifyType, $"IKE_SA_INIT refused: {error.NotifyType}");
            return;
        }

        var sa = response.Find<SecurityAssociationPayload>();
        var ke = response.Find<KeyExchangePayload>();
        var nonce = response.Find<NoncePayload>();
        if (sa is null || ke is null || nonce is null || response.ResponderSpi == 0 || !ValidNonce(nonce))
        {
            Drop(IkeDropReason.Malformed, "IKE_SA_INIT response lacks SA, KE, Nr or SPIr");
            return;
        }
        var suite = ProposalSelection.AcceptedIke(sa, _config.IkeProposals);
        if (suite is null || suite.DhGroup != _keyExchange!.Group || ke.Group != _keyExchange.Group)
        {
            CloseNow(IkeCloseReason.NoProposalChosen, NotifyType.NoProposalChosen, "responder chose a proposal we did not make");
            return;
        }

        byte[] sharedSecret;
        try { sharedSecret = _keyExchange.DeriveSharedSecret(ke.Data.Span); }
        catch (InvalidKeyExchangeException e)
        {
            CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, e.Message);
            return;
        }
        finally { _keyExchange.Dispose(); }

        _sa.Outstanding = null;
        _sa.ResponderSpi = response.ResponderSpi;
        _sa.NonceR = nonce.Nonce.ToArray();
        _realMessage2 = response.Raw.ToArray();
        InstallIkeSaKeys(_sa, suite, sharedSecret);
        ReadCapabilities(_sa, response);
        if (!QueueAdditionalKeyExchanges(suite, response))
        {
            CloseNow(IkeCloseReason.NoProposalChosen, NotifyType.NoProposalChosen, "responder chose additional key exchanges without IKE_INTERMEDIATE (RFC 9242 3.1)");
            return;
        }

        // RFC 7296 2.23: compare what the responder saw with where we think we are.
        _natDetected = _config.ForceUdpEncapsulation
            || !NatHashMatches(response, NotifyType.NatDetectionSourceIp, _config.RemoteEndpoint)
            || !NatHashMatches(response, NotifyType.NatDetectionDestinationIp, _config.LocalEndpoint);
        _natTraversal = _natDetected;

        State = IkeSessionState.Authenticating;
        ContinueAfterKeyExchange();
    }

    private void HandleIkeSaInitRequest(IkeMessage request, bool viaNatTraversal)
    {
        if (IsOriginalInitiator || request.ResponderSpi != 0 || request.MessageId != 0 || !request.IsFromInitiator)
        {
            Drop(IkeDropReason.UnexpectedExchange, "IKE_SA_INIT request not expected here");
            return;
        }
        if (State != IkeSessionState.Idle)
        {
            if (request.InitiatorSpi == _sa.InitiatorSpi && _sa.LastResponse is { } cached)
            {
                SendAll(cached, _sa.LastResponseNatTraversal);
                Drop(IkeDropReason.Duplicate, "retransmitted IKE_SA_INIT");
            }
            else Drop(IkeDropReason.UnexpectedExchange, "IKE_SA_INIT for another IKE SA");
            return;
        }

        _natTraversal = viaNatTraversal;
        ExchangeStarted(ExchangeType.IkeSaInit, 0, weRequested: false);
        var sa = request.Find<SecurityAssociationPayload>();
        var ke = request.Find<KeyExchangePayload>();
        var nonce = request.Find<NoncePayload>();
        var responder = new IkeSaState { InitiatorSpi = request.InitiatorSpi, WeAreInitiator = false };
        _sa = responder;
        if (sa is null || ke is null || nonce is null || !ValidNonce(nonce))
        {
            RefuseIkeSaInit(request, new NotifyPayload(NotifyType.InvalidSyntax), "IKE_SA_INIT request lacks SA, KE or Ni");
            return;
        }
        var selected = ProposalSelection.SelectIke(sa, _config.IkeProposals);
        if (selected is not { } choice)
        {
            RefuseIkeSaInit(request, new NotifyPayload(NotifyType.NoProposalChosen), "no acceptable IKE proposal");
            return;
        }
        var intermediateSupported = request.FindNotify(NotifyType.IntermediateExchangeSupported) is not null;
        if (!choice.Suite.AdditionalKeyExchanges.IsEmpty && !intermediateSupported)
        {
            // RFC 9242 3.1: additional key exchanges need IKE_INTERMEDIATE, which the initiator did not announce.
            RefuseIkeSaInit(request, new NotifyPayload(NotifyType.NoProposalChosen), "additional key exchanges proposed without INTERMEDIATE_EXCHANGE_SUPPORTED");
            return;
        }
        if (ke.Group != choice.Suite.DhGroup)
        {
            // RFC 7296 1.2: tell the initiator which group we want; keep no state.
            RefuseIkeSaInit(request, InvalidKePayload.Create(choice.Suite.DhGroup), $"initiator sent KE for {ke.Group}, we chose {choice.Suite.DhGroup}");
            return;
        }

        byte[] sharedSecret;
        using (var keyExchange = _services.KeyExchange.Create(choice.Suite.DhGroup))
        {
            try { sharedSecret = keyExchange.DeriveSharedSecret(ke.Data.Span); }
            catch (InvalidKeyExchangeException e)
            {
                RefuseIkeSaInit(request, new NotifyPayload(NotifyType.InvalidSyntax), e.Message);
                return;
            }
            responder.ResponderSpi = NewIkeSpi();
            responder.NonceI = nonce.Nonce.ToArray();
            responder.NonceR = NewNonce();
            _realMessage1 = request.Raw.ToArray();
            InstallIkeSaKeys(responder, choice.Suite, sharedSecret);
            ReadCapabilities(responder, request);
            QueueAdditionalKeyExchanges(choice.Suite, request);

            _natDetected = _config.ForceUdpEncapsulation || viaNatTraversal
                || !NatHashMatches(request, NotifyType.NatDetectionSourceIp, _config.RemoteEndpoint)
                || !NatHashMatches(request, NotifyType.NatDetectionDestinationIp, _config.LocalEndpoint);

            var chosen = ProposalSelection.ToProposal(choice.Suite, choice.Proposal.Number, ReadOnlyMemory<byte>.Empty);
            var payloads = new List<IkePayload>(10)
            {
                new SecurityAssociationPayload([chosen]),
                new KeyExchangePayload(choice.Suite.DhGroup, keyExchange.PublicKey.ToArray()),
                new NoncePayload(responder.NonceR),
            };
            AddNatDetection(payloads, responder.InitiatorSpi, responder.ResponderSpi);
            if (_config.PeerAuthentication.CertificateRequest is { } certificateRequest)
                payloads.Add(certificateRequest.ToPayload());
            payloads.Add(StatusNotifies.FragmentationSupported);
            payloads.Add(SignatureHashAlgorithms.CreateNotify());
            if (intermediateSupported) payloads.Add(StatusNotifies.IntermediateExchangeSupported);

            var response = new IkeMessage
            {
                InitiatorSpi = responder.InitiatorSpi,
                ResponderSpi = responder.ResponderSpi,
                Exchange = ExchangeType.IkeSaInit,
                Flags = IkeFlags.Response,
                MessageId = 0,
                Payloads = payloads,
            };
            _realMessage2 = IkeCodec.Encode(response);
        }
        responder.NextPeerRequestId = 1;
        responder.LastResponseId = 0;
        responder.LastResponse = [_realMessage2];
        responder.LastResponseNatTraversal = viaNatTraversal;
        State = IkeSessionState.Authenticating;
        _halfOpenDeadline = _services.Clock.UtcNow + _config.HalfOpenTimeout;
        _lastHeard = _services.Clock.UtcNow;
        ExchangeEnded(ExchangeType.IkeSaInit, 0, weRequested: false, "ok");
        Send(_realMessage2, viaNatTraversal);
    }

    /// <summary>An error response to IKE_SA_INIT (SPIr zero, RFC 7296 1.2), then the responder is done.</summary>
    private void RefuseIkeSaInit(IkeMessage request, NotifyPayload error, string detail)
    {
        ExchangeEnded(ExchangeType.IkeSaInit, 0, weRequested: false, "error");
        Send(CookieChallenge.StatelessResponse(request, error), _natTraversal);
        CloseNow(error.NotifyType == NotifyType.InvalidSyntax ? IkeCloseReason.ProtocolError : IkeCloseReason.NoProposalChosen, error.NotifyType, detail);
    }

    private void InstallIkeSaKeys(IkeSaState sa, IkeSuite suite, byte[] sharedSecret)
    {
        var keys = IkeKeyDerivation.DeriveInitialIkeSaKeys(suite, sharedSecret, sa.NonceI, sa.NonceR, sa.InitiatorSpi, sa.ResponderSpi);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(sharedSecret);
        InstallIkeSaKeys(sa, suite, keys);
    }

    private static void InstallIkeSaKeys(IkeSaState sa, IkeSuite suite, IkeSaKeys keys)
    {
        sa.Suite = suite;
        sa.Prf = suite.CreatePrf();
        sa.Keys = keys;
        // SK_ei/SK_ai protect what the initiator sends (RFC 7296 2.14).
        sa.Outbound = keys.CreateOutboundCipher(sa.WeAreInitiator);
        sa.Inbound = keys.CreateInboundCipher(sa.WeAreInitiator);
    }

    private void ReadCapabilities(IkeSaState sa, IkeMessage message)
    {
        sa.PeerSupportsFragmentation = message.FindNotify(NotifyType.Ikev2FragmentationSupported) is not null;
        if (message.FindNotify(NotifyType.SignatureHashAlgorithms) is { } hashes
            && SignatureHashAlgorithms.TryParse(hashes.Data.Span, out var algorithms))
            _peerSignatureHashes = algorithms;
        _peerCertificateRequest = message.Find<CertificateRequestPayload>() is null
            ? null
            : CertificateRequestData.FromPayloads(message.Payloads.OfType<CertificateRequestPayload>());
    }

    private void AddNatDetection(List<IkePayload> payloads, ulong spiI, ulong spiR)
    {
        var source = _config.ForceUdpEncapsulation ? NatDetection.Fake(_services.Random) : NatDetection.Hash(spiI, spiR, _config.LocalEndpoint);
        payloads.Add(new NotifyPayload(NotifyType.NatDetectionSourceIp, source));
        payloads.Add(new NotifyPayload(NotifyType.NatDetectionDestinationIp, NatDetection.Hash(spiI, spiR, _config.RemoteEndpoint)));
    }

    /// <summary>True when the peer's hash of this endpoint matches (any of them, for several SOURCE_IP notifies), or when it sent none.</summary>
    private static bool NatHashMatches(IkeMessage message, NotifyType type, IPEndPoint endpoint)
    {
        var expected = NatDetection.Hash(message.InitiatorSpi, message.ResponderSpi, endpoint);
        var any = false;
        foreach (var p in message.Payloads)
        {
            if (p is not NotifyPayload n || n.NotifyType != type) continue;
            any = true;
            if (n.Data.Span.SequenceEqual(expected)) return true;
        }
        return !any;
    }

    private bool ProposesGroup(DhGroup group)
    {
        var proposals = _config.IkeProposals;
        for (var i = 0; i < proposals.Count; i++) if (proposals[i].DhGroup == group) return true;
        return false;
    }

    private static bool ValidNonce(NoncePayload nonce) => nonce.Nonce.Length is >= 16 and <= 256;

    private static NotifyPayload? FirstError(List<IkePayload> payloads)
    {
        foreach (var p in payloads)
            if (p is NotifyPayload n && n.NotifyType.IsError()) return n;
        return null;
    }
}
