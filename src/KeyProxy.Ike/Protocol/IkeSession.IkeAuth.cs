using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>IKE_AUTH (RFC 7296 1.2, 2.15): identities, AUTH over the IKE_SA_INIT messages, and the first CHILD_SA.</summary>
public sealed partial class IkeSession
{
    private ChildSaRequest? _authChild;
    private string _peerIdentity = "";

    private void SendIkeAuthRequest()
    {
        var sa = _sa;
        var ownId = _config.LocalIdentity.ToPayload(isInitiator: true);
        var payloads = new List<IkePayload>(10) { ownId }; // sized for all below
        AddCertificates(payloads);
        if (_config.PeerAuthentication.CertificateRequest is { } certificateRequest)
            payloads.Add(certificateRequest.ToPayload());
        if (_config.RemoteIdentity is { } remote)
            payloads.Add(remote.ToPayload(isInitiator: false));
        // The request takes the next message ID, which IntAuth ends with (RFC 9242 3.3.2).
        payloads.Add(CreateOwnAuthentication(sa, _realMessage1, sa.NonceR, sa.Keys!.SkPi, ownId, IntAuth(sa.NextRequestId)));
        if (_config.SendInitialContact)
            payloads.Add(StatusNotifies.InitialContact);

        var child = NewChildRequest(rekeying: null, withKe: false);
        if (_config.Child.Mode == ChildSaMode.Transport)
            payloads.Add(StatusNotifies.UseTransportMode);
        payloads.Add(ProposalSelection.ToSaPayload(_config.Child.Proposals, child.InboundSpi, includeDh: false));
        payloads.Add(new TrafficSelectorPayload(true, child.InitiatorSelectors));
        payloads.Add(new TrafficSelectorPayload(false, child.ResponderSelectors));
        _authChild = child;

        SendRequest(sa, ExchangeType.IkeAuth, payloads, HandleIkeAuthResponse);
    }

    private void HandleIkeAuthResponse(IkeSaState sa, IkeMessage response, List<IkePayload> payloads)
    {
        if (FindNotify(payloads, NotifyType.AuthenticationFailed) is not null)
        {
            CloseNow(IkeCloseReason.AuthenticationFailed, NotifyType.AuthenticationFailed, "the responder refused our authentication");
            return;
        }
        var id = Find<IdentificationPayload>(payloads);
        var auth = Find<AuthenticationPayload>(payloads);
        if (id is null || id.IsInitiator || auth is null)
        {
            var error = FirstError(payloads);
            CloseNow(error is null ? IkeCloseReason.ProtocolError : IkeCloseReason.PeerError, error?.NotifyType,
                error is null ? "IKE_AUTH response lacks IDr or AUTH" : $"IKE_AUTH refused: {error.NotifyType}");
            return;
        }
        var failure = VerifyPeer(id, auth, payloads, _realMessage2, sa.NonceI, sa.Keys!.SkPr, IntAuth(response.MessageId), sa);
        if (failure is not null)
        {
            // RFC 7296 2.21.2: tell the responder in a separate INFORMATIONAL, then give up the IKE SA.
            var notify = new IkeMessage
            {
                InitiatorSpi = sa.InitiatorSpi,
                ResponderSpi = sa.ResponderSpi,
                Exchange = ExchangeType.Informational,
                Flags = sa.OwnFlags,
                MessageId = sa.NextRequestId++,
                Payloads = [new NotifyPayload(NotifyType.AuthenticationFailed)],
            };
            SendAll(Protect(sa, notify), _natTraversal);
            CloseNow(IkeCloseReason.AuthenticationFailed, NotifyType.AuthenticationFailed, failure);
            return;
        }

        Established(sa);
        var child = _authChild!;
        _authChild = null;
        CompleteChildSaRequest(sa, child, payloads, response: null);
    }

    private void HandleIkeAuthRequest(IkeSaState sa, IkeMessage request, List<IkePayload> payloads)
    {
        if (_additionalKeyExchanges.Count > 0)
        {
            // RFC 9370 2.2.2: every negotiated key exchange comes before IKE_AUTH.
            SendResponse(sa, request, [new NotifyPayload(NotifyType.InvalidSyntax)]);
            CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, $"IKE_AUTH before {_additionalKeyExchanges.Count} additional key exchange(s)");
            return;
        }
        var id = Find<IdentificationPayload>(payloads);
        var auth = Find<AuthenticationPayload>(payloads);
        if (id is null || !id.IsInitiator || auth is null)
        {
            SendResponse(sa, request, [new NotifyPayload(NotifyType.AuthenticationFailed)]);
            CloseNow(IkeCloseReason.AuthenticationFailed, NotifyType.AuthenticationFailed, "IKE_AUTH request lacks IDi or AUTH");
            return;
        }
        var intAuth = IntAuth(request.MessageId);
        var failure = VerifyPeer(id, auth, payloads, _realMessage1, sa.NonceR, sa.Keys!.SkPi, intAuth, sa);
        if (failure is not null)
        {
            // RFC 7296 2.21.2: only the error notify, then the IKE SA is gone.
            SendResponse(sa, request, [new NotifyPayload(NotifyType.AuthenticationFailed)]);
            CloseNow(IkeCloseReason.AuthenticationFailed, NotifyType.AuthenticationFailed, failure);
            return;
        }

        var ownId = _config.LocalIdentity.ToPayload(isInitiator: false);
        var response = new List<IkePayload>(10) { ownId };
        AddCertificates(response);
        response.Add(CreateOwnAuthentication(sa, _realMessage2, sa.NonceI, sa.Keys.SkPr, ownId, intAuth));

        Established(sa, peerInitialContact: FindNotify(payloads, NotifyType.InitialContact) is not null);
        // The first CHILD_SA rides on IKE_AUTH: its keys come from SK_d and the IKE_SA_INIT nonces (RFC 7296 2.17).
        AnswerChildSaRequest(sa, payloads, response, rekeyed: null, isIkeAuth: true);
        SendResponse(sa, request, response);
    }

    private void Established(IkeSaState sa, bool peerInitialContact = false)
    {
        State = IkeSessionState.Established;
        _halfOpenDeadline = null;
        if (_config.IkeRekeyAfter is { } rekey) _ikeRekeyAt = _services.Clock.UtcNow + rekey;
        Emit(new IkeSaEstablished(sa.InitiatorSpi, sa.ResponderSpi, sa.Suite!, _peerIdentity, peerInitialContact));
    }

    /// <summary>
    /// Our AUTH payload (RFC 7296 2.15) over our signed octets: our IKE_SA_INIT message, the peer's nonce, prf(our SK_p, our ID)
    /// and IntAuth, built in a scratch buffer that is zeroed afterwards.
    /// </summary>
    private AuthenticationPayload CreateOwnAuthentication(IkeSaState sa, byte[] ownRealMessage, ReadOnlySpan<byte> peerNonce, byte[] ownSkP,
        IdentificationPayload ownId, byte[] intAuth)
    {
        var prf = sa.Prf!;
        using var octets = new SecretScratch(stackalloc byte[SecretScratch.StackSize], SignedOctets.GetLength(ownRealMessage.Length, peerNonce.Length, prf, intAuth.Length));
        SignedOctets.Compute(ownRealMessage, peerNonce, prf, ownSkP, ownId, intAuth, octets.Span);
        return IkeAuthenticator.CreateAuthentication(_config.LocalCredential, octets.Span, prf, _peerSignatureHashes);
    }

    /// <summary>
    /// Checks the peer's identity, certificate and AUTH payload over the peer's signed octets (its IKE_SA_INIT message, our
    /// nonce, prf(its SK_p, its ID) and IntAuth; RFC 7296 2.15). Null when all is well, else the reason.
    /// </summary>
    private string? VerifyPeer(IdentificationPayload id, AuthenticationPayload auth, List<IkePayload> payloads,
        byte[] peerRealMessage, ReadOnlySpan<byte> ownNonce, byte[] peerSkP, byte[] intAuth, IkeSaState sa)
    {
        if (!IkeIdentity.TryFromPayload(id, out var identity, out var idError)) return $"unusable peer ID: {idError}";
        _peerIdentity = identity.ToString();
        if (_config.RemoteIdentity is { } expected && !expected.Equals(identity))
            return $"peer identity {identity} is not the expected {expected}";
        var certificates = new List<CertificatePayload>();
        foreach (var p in payloads)
            if (p is CertificatePayload c) certificates.Add(c);
        var prf = sa.Prf!;
        using var octets = new SecretScratch(stackalloc byte[SecretScratch.StackSize], SignedOctets.GetLength(peerRealMessage.Length, ownNonce.Length, prf, intAuth.Length));
        SignedOctets.Compute(peerRealMessage, ownNonce, prf, peerSkP, id, intAuth, octets.Span);
        var result = IkeAuthenticator.VerifyPeer(_config.PeerAuthentication, id, auth, certificates, octets.Span, prf, _services.Clock.UtcNow);
        return result.Succeeded ? null : result.Reason;
    }

    private void AddCertificates(List<IkePayload> payloads)
    {
        if (_config.LocalCredential is not CertificateCredential credential) return;
        // RFC 7296 3.7: our end-entity certificate, and intermediates up to a CA the peer asked for.
        payloads.AddRange((_peerCertificateRequest ?? CertificateRequestData.Empty).SelectCertificatePayloads(credential));
    }

    private static T? Find<T>(List<IkePayload> payloads) where T : IkePayload
    {
        foreach (var p in payloads) if (p is T t) return t;
        return null;
    }

    private static NotifyPayload? FindNotify(List<IkePayload> payloads, NotifyType type)
    {
        foreach (var p in payloads) if (p is NotifyPayload n && n.NotifyType == type) return n;
        return null;
    }
}
