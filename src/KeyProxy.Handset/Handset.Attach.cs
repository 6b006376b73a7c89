using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset;

/// <summary>
/// Attach and detach (docs/wire.md, "Access link"): AttachRequest, the edge's challenge, the
/// proof over the subscriber secret, and AttachAccept with the network's own proof, which gives
/// the tunnel id, the handset's address and a fresh delivery key for key transfers.
/// </summary>
public sealed partial class Handset
{
    /// <summary>Starts an attach (again, if attached: the old attachment's SAs are dropped).</summary>
    public void Attach()
    {
        if (State != HandsetState.Detached) ResetAttachment(SaRemovalReason.Detached);
        _handsetNonce = Nonce16.Create(_random);
        State = HandsetState.AwaitingChallenge;
        _attachAttempts = 0;
        SendAttachMessage(new AttachRequest(Config.Identity, _handsetNonce).ToArray());
    }

    /// <summary>Detaches: tells the edge (with a proof under the delivery key) and drops every SA at once.</summary>
    public void Detach()
    {
        if (State != HandsetState.Attached)
        {
            ResetAttachment(SaRemovalReason.Detached);
            return;
        }
        var proof = AttachProofs.ComputeDetachProof(_deliveryKey, TunnelId);
        RemoveAllSas(SaRemovalReason.Detached, report: true);
        FailAllPending();
        State = HandsetState.Detaching;
        _attachAttempts = 0;
        SendAttachMessage(new Detach(proof) { TunnelId = TunnelId }.ToArray());
    }

    private void SendAttachMessage(byte[] datagram)
    {
        _lastAttachMessage = datagram;
        _attachAttempts++;
        _attachRetryAt = _clock.UtcNow + Config.AttachRetry.TimeoutAfter(_attachAttempts);
        EmitDatagram(datagram);
    }

    private void HandleControl(ReadOnlySpan<byte> datagram)
    {
        if (AccessMessage.TryParse(datagram, out var message) != WireError.None)
        {
            Interlocked.Increment(ref Counters.droppedMalformed);
            return;
        }
        switch (message)
        {
            case AttachChallenge c when State == HandsetState.AwaitingChallenge && c.HandsetNonce == _handsetNonce:
                _edgeNonce = c.EdgeNonce;
                State = HandsetState.AwaitingAccept;
                _attachAttempts = 0;
                // The suites go with the attach too: a peer may start IKE towards this handset (flow 2) before any request.
                SendAttachMessage(new AttachResponse(Config.Identity, _handsetNonce, _edgeNonce,
                    AttachProofs.ComputeAttachProof(_attachKey, Config.Identity, _handsetNonce, _edgeNonce))
                { Suites = [.. Config.Suites.Select(EspSuitePreference.From)] }.ToArray());
                break;

            case AttachAccept a when State == HandsetState.AwaitingAccept:
                // The network proves it knows the secret too, and binds tunnel id and address to this attach.
                if (!AttachProofs.VerifyAcceptProof(_attachKey, _handsetNonce, _edgeNonce, a.TunnelId, a.HandsetAddress, a.NetworkProof.Span))
                {
                    Interlocked.Increment(ref Counters.controlIgnored);
                    return;
                }
                TunnelId = a.TunnelId;
                _address = IpAddressValue.FromIPAddress(a.HandsetAddress);
                _deliveryKey = SubscriberKeys.DeriveDeliveryKey(Config.Secret.Span, _handsetNonce, _edgeNonce, Config.Identity);
                _opener?.Dispose();
                _opener = new KeyTransferOpener(_deliveryKey);
                State = HandsetState.Attached;
                _attachRetryAt = null;
                _lastAttachMessage = null;
                HeardFromEdge();
                Emit(new Attached(TunnelId, a.HandsetAddress));
                break;

            case AttachReject r when State is HandsetState.AwaitingChallenge or HandsetState.AwaitingAccept && r.HandsetNonce == _handsetNonce:
                ResetAttachment(SaRemovalReason.Detached);
                Emit(new AttachFailed(r.Reason, r.Text));
                break;

            case DetachAck when State == HandsetState.Detaching && message.TunnelId == TunnelId:
                ResetAttachment(SaRemovalReason.Detached);
                Emit(new Detached(Acknowledged: true));
                break;

            case EchoRequest e when State == HandsetState.Attached && e.TunnelId == TunnelId:
                HeardFromEdge();
                EmitDatagram(new EchoReply(e.Opaque) { TunnelId = TunnelId }.ToArray());
                break;

            case EchoReply r when State == HandsetState.Attached && r.TunnelId == TunnelId:
                HeardFromEdge();
                break;

            case ProxyRefusal p when State == HandsetState.Attached && p.TunnelId == TunnelId:
                FailRequest(p.RequestId, p.Reason, p.Text, byEdge: true);
                break;

            default:
                // Late duplicates (a second challenge after the accept, an ack for an old tunnel) and messages
                // meant for the edge: nothing to do, counted.
                Interlocked.Increment(ref Counters.controlIgnored);
                break;
        }
    }

    private void RetryAttach(DateTimeOffset now)
    {
        if (_attachRetryAt is not { } due || now < due || _lastAttachMessage is null) return;
        if (_attachAttempts >= Config.AttachRetry.MaxAttempts)
        {
            var wasDetaching = State == HandsetState.Detaching;
            ResetAttachment(SaRemovalReason.Detached);
            Emit(wasDetaching ? new Detached(Acknowledged: false) : new AttachFailed(null, "the edge did not answer"));
            return;
        }
        SendAttachMessage(_lastAttachMessage);
    }

    /// <summary>Anything from the edge for this tunnel shows the access link is alive.</summary>
    private void HeardFromEdge()
    {
        _unansweredEchoes = 0;
        _nextEcho = Config.KeepaliveInterval is { } interval ? _clock.UtcNow + interval : null;
    }

    /// <summary>Access-link liveness: an echo request when the edge was quiet; after too many unanswered, the attachment is lost.</summary>
    private void CheckEdge(DateTimeOffset now)
    {
        if (State != HandsetState.Attached || _nextEcho is not { } due || now < due || Config.KeepaliveInterval is not { } interval) return;
        if (_unansweredEchoes >= Config.KeepaliveMisses)
        {
            var lost = new AttachmentLost(TunnelId, _unansweredEchoes);
            ResetAttachment(SaRemovalReason.Detached);
            Emit(lost);
            if (Config.Reattach) Attach();
            return;
        }
        _unansweredEchoes++;
        _nextEcho = now + interval;
        EmitDatagram(new EchoRequest(++_echoCounter) { TunnelId = TunnelId }.ToArray());
    }

    private void ResetAttachment(SaRemovalReason reason)
    {
        RemoveAllSas(reason, report: State == HandsetState.Attached);
        FailAllPending();
        _refusedUntil.Clear();
        _opener?.Dispose();
        _opener = null;
        _deliveryKey = null;
        _address = default;
        TunnelId = 0;
        _attachRetryAt = null;
        _lastAttachMessage = null;
        _nextEcho = null;
        _unansweredEchoes = 0;
        State = HandsetState.Detached;
    }
}
