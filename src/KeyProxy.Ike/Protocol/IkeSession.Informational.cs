using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>INFORMATIONAL (RFC 7296 1.4): Delete of CHILD_SAs and of the IKE SA, liveness checks, error notifies.</summary>
public sealed partial class IkeSession
{
    private void StartDeleteChildSa(uint inboundSpi)
    {
        var child = FindChildByInbound(inboundSpi);
        if (child is null || child.Deleting) return;
        child.Deleting = true;
        SendRequest(_sa, ExchangeType.Informational, [new DeletePayload(ProtocolId.Esp, [inboundSpi])], (_, _, _) =>
        {
            // The response names the peer's half, which is gone with ours (RFC 7296 1.4.1).
            if (child.Deleted) return;
            child.Deleted = true;
            Emit(new ChildSaDeleted(child.Sa.InboundSpi, child.Sa.OutboundSpi, ByPeer: false));
        });
    }

    private void StartDeleteIkeSa()
    {
        State = IkeSessionState.Deleting;
        _sa.Deleting = true;
        SendRequest(_sa, ExchangeType.Informational, [new DeletePayload(ProtocolId.Ike, [])],
            (_, _, _) => CloseNow(IkeCloseReason.Local, null, "IKE SA deleted"));
    }

    private void StartDeleteOldIkeSa()
    {
        var old = _oldSa!;
        old.Deleting = true;
        SendRequest(old, ExchangeType.Informational, [new DeletePayload(ProtocolId.Ike, [])], (_, _, _) => DiscardOldSa());
    }

    private void HandleInformationalRequest(IkeSaState sa, IkeMessage request, List<IkePayload> payloads)
    {
        var response = new List<IkePayload>();
        var deleteIke = false;
        var ourDeletedSpis = new List<uint>();
        foreach (var p in payloads)
        {
            switch (p)
            {
                case DeletePayload { Protocol: ProtocolId.Ike }:
                    deleteIke = true;
                    break;
                case DeletePayload { Protocol: ProtocolId.Esp or ProtocolId.Ah } d:
                    foreach (var spi in d.Spis)
                    {
                        // The peer names its inbound SPI, our outbound one (RFC 7296 3.11).
                        var child = FindChildByOutbound(spi);
                        if (child is null) continue;
                        // Simultaneous deletes: our own request already covers our half (RFC 7296 1.4.1).
                        if (!child.Deleting) ourDeletedSpis.Add(child.Sa.InboundSpi);
                        child.Deleted = true;
                        Emit(new ChildSaDeleted(child.Sa.InboundSpi, child.Sa.OutboundSpi, ByPeer: true));
                    }
                    break;
                case NotifyPayload { NotifyType: NotifyType.AuthenticationFailed }:
                    // RFC 7296 2.21.2: the initiator could not verify us.
                    SendResponse(sa, request, []);
                    CloseNow(IkeCloseReason.AuthenticationFailed, NotifyType.AuthenticationFailed, "the initiator refused our authentication");
                    return;
            }
        }
        if (ourDeletedSpis.Count > 0) response.Add(new DeletePayload(ProtocolId.Esp, ourDeletedSpis));
        SendResponse(sa, request, response);

        if (!deleteIke) return;
        if (sa == _oldSa)
        {
            // The old IKE SA after a rekey: its CHILD_SAs moved to the new one.
            DiscardOldSa();
            return;
        }
        CloseNow(IkeCloseReason.DeletedByPeer, null, "the peer deleted the IKE SA");
    }
}
