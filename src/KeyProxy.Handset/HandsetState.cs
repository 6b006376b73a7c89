namespace KeyProxy.Handset;

/// <summary>Where the handset is in its attachment to an edge.</summary>
public enum HandsetState
{
    Detached,

    /// <summary>AttachRequest sent, waiting for the edge's challenge.</summary>
    AwaitingChallenge,

    /// <summary>AttachResponse sent, waiting for AttachAccept (or AttachReject).</summary>
    AwaitingAccept,

    Attached,

    /// <summary>Detach sent, waiting for DetachAck.</summary>
    Detaching,
}
