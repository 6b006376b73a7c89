using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// IKE_FOLLOWUP_KE (RFC 9370 2.2.4): an IKE SA rekey whose suite has additional key exchanges runs them after its
/// CREATE_CHILD_SA, one exchange each on the old IKE SA, linked by the ADDITIONAL_KEY_EXCHANGE notify's data; the new IKE
/// SA's SKEYSEED then covers every secret, prf(SK_d (old), g^ir (new) | Ni | Nr | SK(1) | ... | SK(n)).
/// </summary>
public sealed partial class IkeSession
{
    /// <summary>A rekey the peer started, waiting for its IKE_FOLLOWUP_KE requests.</summary>
    private IkeRekeyInProgress? _peerIkeRekey;

    private void SendIkeFollowupKeRequest(IkeSaState old, IkeSaRekeyRequest rekey)
    {
        var followUp = rekey.FollowUp!;
        var method = followUp.Remaining.Peek();
        followUp.KeyExchange = _services.KeyExchange.Create(method);
        List<IkePayload> payloads =
        [
            new KeyExchangePayload(method, followUp.KeyExchange.PublicKey.ToArray()),
            new NotifyPayload(NotifyType.AdditionalKeyExchange, followUp.Link),
        ];
        SendRequest(old, ExchangeType.IkeFollowupKe, payloads, (sa, _, inner) => CompleteIkeFollowupKe(sa, rekey, inner));
    }

    private void CompleteIkeFollowupKe(IkeSaState old, IkeSaRekeyRequest rekey, List<IkePayload> payloads)
    {
        var followUp = rekey.FollowUp!;
        var keyExchange = followUp.KeyExchange!;
        followUp.KeyExchange = null;
        using (keyExchange)
        {
            if (FirstError(payloads) is { } error)
            {
                // STATE_NOT_FOUND or a refusal: the old IKE SA carries on, and the rekey is tried again later.
                followUp.Clear();
                _ikeRekey = null;
                _ikeRekeyAt = _services.Clock.UtcNow + RetryDelay();
                Emit(new IkeMessageDropped(IkeDropReason.UnexpectedExchange, $"IKE SA rekey's IKE_FOLLOWUP_KE refused: {error.NotifyType}"));
                return;
            }
            var ke = Find<KeyExchangePayload>(payloads);
            string? problem = ke is null || ke.Group != keyExchange.Group ? $"IKE_FOLLOWUP_KE response lacks the {keyExchange.Group} KE payload" : null;
            if (problem is null)
            {
                try { followUp.AdditionalSecrets.Add(keyExchange.DeriveSharedSecret(ke!.Data.Span)); }
                catch (InvalidKeyExchangeException e) { problem = e.Message; }
            }
            if (problem is null && followUp.Remaining.Count > 1)
            {
                if (FindNotify(payloads, NotifyType.AdditionalKeyExchange) is { } link) followUp.Link = link.Data.ToArray();
                else problem = "IKE_FOLLOWUP_KE response lacks the link to the next key exchange";
            }
            if (problem is not null)
            {
                followUp.Clear();
                _ikeRekey = null;
                CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, problem);
                return;
            }
        }
        followUp.Remaining.Dequeue();
        if (followUp.Remaining.Count > 0)
        {
            SendIkeFollowupKeRequest(old, rekey);
            return;
        }
        _ikeRekey = null;
        InstallRekeyedIkeSa(old, followUp.Fresh, followUp.Suite, followUp.FirstSecret, followUp.ConcatenatedAdditionalSecrets());
        followUp.Clear();
        SwitchToRekeyedSa(old, followUp.Fresh);
        // RFC 7296 2.18: the initiator of the rekey deletes the old IKE SA.
        StartDeleteOldIkeSa();
    }

    private void HandleIkeFollowupKeRequest(IkeSaState sa, IkeMessage request, List<IkePayload> payloads)
    {
        var followUp = _peerIkeRekey;
        var link = FindNotify(payloads, NotifyType.AdditionalKeyExchange);
        if (followUp is null || sa != _sa || link is null || !link.Data.Span.SequenceEqual(followUp.Link))
        {
            // RFC 9370 2.2.4: link data we did not hand out (or none) is a state we do not have.
            SendResponse(sa, request, [new NotifyPayload(NotifyType.StateNotFound)]);
            return;
        }
        var method = followUp.Remaining.Peek();
        var ke = Find<KeyExchangePayload>(payloads);
        byte[]? secret = null;
        List<IkePayload>? response = null;
        if (ke is not null && ke.Group == method)
        {
            using var keyExchange = _services.KeyExchange.Create(method);
            try
            {
                secret = keyExchange.DeriveSharedSecret(ke.Data.Span);
                response = [new KeyExchangePayload(method, keyExchange.PublicKey.ToArray())];
            }
            catch (InvalidKeyExchangeException) { }
        }
        if (secret is null || response is null)
        {
            _peerIkeRekey = null;
            followUp.Clear();
            SendResponse(sa, request, [new NotifyPayload(NotifyType.InvalidSyntax)]);
            return;
        }
        followUp.AdditionalSecrets.Add(secret);
        followUp.Remaining.Dequeue();
        if (followUp.Remaining.Count > 0)
        {
            followUp.Link = NewFollowupLink();
            response.Add(new NotifyPayload(NotifyType.AdditionalKeyExchange, followUp.Link));
            SendResponse(sa, request, response);
            return;
        }
        SendResponse(sa, request, response);
        _peerIkeRekey = null;
        InstallRekeyedIkeSa(sa, followUp.Fresh, followUp.Suite, followUp.FirstSecret, followUp.ConcatenatedAdditionalSecrets());
        followUp.Clear();
        SwitchToRekeyedSa(sa, followUp.Fresh);
        // The peer deletes the old IKE SA; we keep it until then.
    }

    /// <summary>Opaque link data for the next IKE_FOLLOWUP_KE (RFC 9370 2.2.4); random, so a stale request cannot match.</summary>
    private byte[] NewFollowupLink()
    {
        var link = new byte[8];
        _services.Random.Fill(link);
        return link;
    }
}
