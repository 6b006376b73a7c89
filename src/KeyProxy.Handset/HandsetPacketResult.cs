namespace KeyProxy.Handset;

/// <summary>What became of one packet on the synchronous data path.</summary>
public enum HandsetPacketStatus
{
    /// <summary>Send: an access datagram of <see cref="HandsetPacketResult.Length"/> bytes is ready (ESP or bypass). Receive: a packet was delivered.</summary>
    Ok,

    /// <summary>Send: held until the SA arrives (a proxy request is under way).</summary>
    Held,

    /// <summary>Receive: a control message or key transfer, handled; see TakeOutputs for what followed.</summary>
    Control,

    /// <summary>Dropped and counted; <see cref="HandsetPacketResult.Reason"/> says why.</summary>
    Dropped,
}

/// <summary>Outcome of <see cref="Handset.Send"/> or <see cref="Handset.Receive"/>.</summary>
public readonly record struct HandsetPacketResult(HandsetPacketStatus Status, int Length, HandsetDropReason Reason = HandsetDropReason.None)
{
    internal static HandsetPacketResult Drop(HandsetDropReason reason) => new(HandsetPacketStatus.Dropped, 0, reason);
}

public enum HandsetDropReason
{
    None,
    NotAttached,
    Malformed,
    WrongSource,
    Policy,
    QueueFull,
    Refused,
    Encrypt,
    Decrypt,
    NoSa,
    Unprotected,
    NotForUs,
    Ike,
    DestinationTooSmall,
}
