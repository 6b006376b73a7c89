namespace KeyProxy.Ike.Protocol;

/// <summary>The session's bookkeeping around one CHILD_SA.</summary>
internal sealed class ChildSaState(ChildSa sa, byte[] nonceI, byte[] nonceR)
{
    public ChildSa Sa { get; } = sa;

    /// <summary>Nonces of the exchange that created it: RFC 7296 2.8.1 compares them on rekey collisions.</summary>
    public byte[] NonceI { get; } = nonceI;
    public byte[] NonceR { get; } = nonceR;

    /// <summary>When this node rekeys it (only set on CHILD_SAs whose rekey this node drives).</summary>
    public DateTimeOffset? RekeyAt { get; set; }

    /// <summary>Our own rekey request for it is in flight.</summary>
    public bool Rekeying { get; set; }

    /// <summary>A successor exists; it will be deleted.</summary>
    public bool Replaced { get; set; }

    /// <summary>The successor created by our own rekey, and the one created by the peer's (a collision when both are set).</summary>
    public ChildSaState? OurSuccessor { get; set; }
    public ChildSaState? PeerSuccessor { get; set; }

    public bool Deleting { get; set; }
    public bool Deleted { get; set; }
}
