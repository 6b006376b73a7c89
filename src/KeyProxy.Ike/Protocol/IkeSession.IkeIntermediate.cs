using System.Buffers.Binary;
using System.Security.Cryptography;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// IKE_INTERMEDIATE (RFC 9242) carrying the additional key exchanges of RFC 9370: after IKE_SA_INIT, one exchange per
/// negotiated ADDITIONAL_KEY_EXCHANGE transform in slot order, each with a KE payload under the keys of the step before,
/// each followed by new IKE SA keys, SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr) (RFC 9370 2.2.2). Every
/// IKE_INTERMEDIATE message is folded into IntAuth, which IKE_AUTH's AUTH payloads then cover (RFC 9242 3.3.2).
/// </summary>
public sealed partial class IkeSession
{
    /// <summary>The additional key exchanges still to run, in slot order (RFC 9370 2.2.2).</summary>
    private readonly Queue<DhGroup> _additionalKeyExchanges = new();

    /// <summary>The initiator's key pair of the IKE_INTERMEDIATE exchange in flight.</summary>
    private IKeyExchange? _intermediateKeyExchange;

    /// <summary>IntAuth_i and IntAuth_r of the IKE_INTERMEDIATE messages so far (RFC 9242 3.3.2); null before the first.</summary>
    private byte[]? _intAuthI, _intAuthR;

    /// <summary>Whether our IKE_SA_INIT proposals ask for additional key exchanges, which need IKE_INTERMEDIATE (RFC 9242 3.1).</summary>
    private bool ProposesAdditionalKeyExchanges()
    {
        var proposals = _config.IkeProposals;
        for (var i = 0; i < proposals.Count; i++)
            if (!proposals[i].AdditionalKeyExchanges.IsEmpty) return true;
        return false;
    }

    /// <summary>After IKE_SA_INIT: queues the chosen suite's additional key exchanges; false when the peer did not say it can run them.</summary>
    private bool QueueAdditionalKeyExchanges(IkeSuite suite, IkeMessage peerIkeSaInit)
    {
        if (!suite.AdditionalKeyExchanges.IsEmpty)
            foreach (var method in suite.AdditionalKeyExchanges.InExchangeOrder()) _additionalKeyExchanges.Enqueue(method);
        return _additionalKeyExchanges.Count == 0 || peerIkeSaInit.FindNotify(NotifyType.IntermediateExchangeSupported) is not null;
    }

    /// <summary>Initiator: the next additional key exchange, or IKE_AUTH when none is left.</summary>
    private void ContinueAfterKeyExchange()
    {
        if (_additionalKeyExchanges.Count == 0)
        {
            SendIkeAuthRequest();
            return;
        }
        var method = _additionalKeyExchanges.Peek();
        _intermediateKeyExchange = _services.KeyExchange.Create(method);
        List<IkePayload> payloads = [new KeyExchangePayload(method, _intermediateKeyExchange.PublicKey.ToArray())];
        FoldIntoIntAuth(_sa, ExchangeType.IkeIntermediate, _sa.OwnFlags, _sa.NextRequestId, payloads);
        SendRequest(_sa, ExchangeType.IkeIntermediate, payloads, HandleIkeIntermediateResponse);
    }

    private void HandleIkeIntermediateResponse(IkeSaState sa, IkeMessage response, List<IkePayload> payloads)
    {
        FoldIntoIntAuth(sa, response.Exchange, response.Flags, response.MessageId, payloads);
        var keyExchange = _intermediateKeyExchange!;
        _intermediateKeyExchange = null;
        using (keyExchange)
        {
            if (FirstError(payloads) is { } error)
            {
                CloseNow(error.NotifyType == NotifyType.NoProposalChosen ? IkeCloseReason.NoProposalChosen : IkeCloseReason.PeerError,
                    error.NotifyType, $"IKE_INTERMEDIATE refused: {error.NotifyType}");
                return;
            }
            var ke = Find<KeyExchangePayload>(payloads);
            if (ke is null || ke.Group != keyExchange.Group)
            {
                CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, $"IKE_INTERMEDIATE response lacks the {keyExchange.Group} KE payload");
                return;
            }
            byte[] secret;
            try { secret = keyExchange.DeriveSharedSecret(ke.Data.Span); }
            catch (InvalidKeyExchangeException e)
            {
                CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, e.Message);
                return;
            }
            UpdateKeysAfterKeyExchange(sa, secret);
        }
        _additionalKeyExchanges.Dequeue();
        ContinueAfterKeyExchange();
    }

    private void HandleIkeIntermediateRequest(IkeSaState sa, IkeMessage request, List<IkePayload> payloads)
    {
        FoldIntoIntAuth(sa, request.Exchange, request.Flags, request.MessageId, payloads);
        var ke = Find<KeyExchangePayload>(payloads);
        if (!_additionalKeyExchanges.TryPeek(out var method) || ke is null || ke.Group != method)
        {
            // RFC 9370 2.2.2: the initiator must run the negotiated key exchanges, in order.
            RefuseIntermediate(sa, request, method == DhGroup.None
                ? "IKE_INTERMEDIATE with no additional key exchange left"
                : $"IKE_INTERMEDIATE without the KE payload of {method}");
            return;
        }
        byte[] secret;
        List<IkePayload> response;
        using (var keyExchange = _services.KeyExchange.Create(method))
        {
            try { secret = keyExchange.DeriveSharedSecret(ke.Data.Span); }
            catch (InvalidKeyExchangeException e)
            {
                RefuseIntermediate(sa, request, e.Message);
                return;
            }
            response = [new KeyExchangePayload(method, keyExchange.PublicKey.ToArray())];
        }
        var flags = sa.OwnFlags | IkeFlags.Response;
        FoldIntoIntAuth(sa, ExchangeType.IkeIntermediate, flags, request.MessageId, response);
        // The response leaves under the keys the request came with; the initiator's next request uses the new ones.
        SendResponse(sa, request, response);
        UpdateKeysAfterKeyExchange(sa, secret);
        _additionalKeyExchanges.Dequeue();
    }

    private void RefuseIntermediate(IkeSaState sa, IkeMessage request, string detail)
    {
        List<IkePayload> error = [new NotifyPayload(NotifyType.InvalidSyntax)];
        SendResponse(sa, request, error);
        CloseNow(IkeCloseReason.ProtocolError, NotifyType.InvalidSyntax, detail);
    }

    /// <summary>
    /// RFC 9370 2.2.2: SKEYSEED(n) = prf(SK_d(n-1), SK(n) | Ni | Nr) with the IKE_SA_INIT nonces, then every SK_* anew
    /// from prf+(SKEYSEED(n), Ni | Nr | SPIi | SPIr): the IKE SA rekey formula of RFC 7296 2.18 on the same SPIs.
    /// </summary>
    private static void UpdateKeysAfterKeyExchange(IkeSaState sa, byte[] sharedSecret)
    {
        var previous = sa.Keys!;
        var keys = IkeKeyDerivation.DeriveRekeyedIkeSaKeys(previous, sa.Suite!, sharedSecret, sa.NonceI, sa.NonceR, sa.InitiatorSpi, sa.ResponderSpi);
        CryptographicOperations.ZeroMemory(sharedSecret);
        InstallIkeSaKeys(sa, sa.Suite!, keys);
        previous.Dispose();
    }

    /// <summary>
    /// IntAuth_i(n) = prf(SK_pi, IntAuth_i(n-1) | IntAuth_i(n)_A | IntAuth_i(n)_P) for the original initiator's messages, and
    /// with SK_pr for the responder's (RFC 9242 3.3.2), with the keys that protect the message.
    /// </summary>
    private void FoldIntoIntAuth(IkeSaState sa, ExchangeType exchange, IkeFlags flags, uint messageId, List<IkePayload> payloads)
    {
        var data = IkeCodec.EncodeIntermediateAuthData(new IkeMessage
        {
            InitiatorSpi = sa.InitiatorSpi,
            ResponderSpi = sa.ResponderSpi,
            Exchange = exchange,
            Flags = flags,
            MessageId = messageId,
            Payloads = payloads,
        });
        bool fromInitiator = (flags & IkeFlags.Initiator) != 0;
        var previous = (fromInitiator ? _intAuthI : _intAuthR) ?? [];
        var input = new byte[previous.Length + data.Length];
        previous.CopyTo(input, 0);
        data.CopyTo(input, previous.Length);
        var folded = sa.Prf!.Compute(fromInitiator ? sa.Keys!.SkPi : sa.Keys!.SkPr, input);
        CryptographicOperations.ZeroMemory(input);
        CryptographicOperations.ZeroMemory(data);
        if (fromInitiator) _intAuthI = folded;
        else _intAuthR = folded;
    }

    /// <summary>IntAuth = IntAuth_iN | IntAuth_rN | IKE_AUTH_MID (RFC 9242 3.3.2); empty when no IKE_INTERMEDIATE came before IKE_AUTH.</summary>
    private byte[] IntAuth(uint ikeAuthMessageId)
    {
        if (_intAuthI is null || _intAuthR is null) return [];
        var intAuth = new byte[_intAuthI.Length + _intAuthR.Length + 4];
        _intAuthI.CopyTo(intAuth, 0);
        _intAuthR.CopyTo(intAuth, _intAuthI.Length);
        BinaryPrimitives.WriteUInt32BigEndian(intAuth.AsSpan(_intAuthI.Length + _intAuthR.Length), ikeAuthMessageId);
        return intAuth;
    }
}
