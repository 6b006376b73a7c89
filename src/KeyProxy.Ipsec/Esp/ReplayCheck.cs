namespace KeyProxy.Ipsec.Esp;

/// <summary>Verdict of the anti-replay window on a sequence number (RFC 4303 3.4.3).</summary>
public enum ReplayCheck
{
    /// <summary>New: right of the window, or inside it and not yet seen.</summary>
    Ok,

    /// <summary>Inside the window and already received.</summary>
    Duplicate,

    /// <summary>Left of the window.</summary>
    TooOld,

    /// <summary>Zero, or an ESN inference that falls before the first subspace: never a valid number.</summary>
    Invalid,
}
