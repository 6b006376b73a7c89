namespace KeyProxy.Wire.Proxy;

/// <summary>Why the proxy tells the handset to remove SAs (key transfer kind 2).</summary>
public enum SaDeleteReason : byte
{
    /// <summary>The peer sent a DELETE for the CHILD_SA (RFC 7296 1.4.1).</summary>
    PeerDeleted = 1,

    /// <summary>The IKE SA that owned the CHILD_SAs was closed or failed liveness.</summary>
    IkeSaClosed = 2,

    /// <summary>The hard lifetime ran out and no rekey replaced the SA.</summary>
    Expired = 3,

    /// <summary>The handset detached; sent as a courtesy, the handset drops its SAs on detach anyway.</summary>
    Detached = 4,

    /// <summary>The SA was replaced by a rekey (an earlier SA install named it in "replaces") and is now deleted.</summary>
    Rekeyed = 5,
}
