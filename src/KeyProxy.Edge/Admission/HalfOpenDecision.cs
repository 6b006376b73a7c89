namespace KeyProxy.Edge.Admission;

/// <summary>What the edge does with a peer's IKE_SA_INIT for a proxied handset (DESIGN "Security", RFC 7296 2.6).</summary>
public enum HalfOpenDecision
{
    /// <summary>Start a responder proxy session (a grain activation and its Diffie-Hellman work).</summary>
    Start,

    /// <summary>Too many half-open SAs: answer statelessly with a COOKIE notify, start nothing.</summary>
    DemandCookie,

    /// <summary>The edge's hard cap on half-open SAs is reached: drop.</summary>
    OverEdgeLimit,

    /// <summary>This peer address has too many half-open SAs here: drop.</summary>
    OverPeerLimit,
}
