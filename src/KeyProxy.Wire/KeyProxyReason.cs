namespace KeyProxy.Wire;

/// <summary>
/// Why the network refused or failed a request: one code list for AttachReject, ProxyRefusal and the key
/// transfer's proxy failure (docs/wire.md, "Reason codes"). Sent as u16; 0 is not a reason.
/// </summary>
public enum KeyProxyReason : ushort
{
    /// <summary>The handset has no attachment at this edge (or the tunnel id is unknown).</summary>
    NotAttached = 1,

    /// <summary>No subscriber has this identity.</summary>
    UnknownSubscriber = 2,

    /// <summary>The attach proof did not verify.</summary>
    AuthenticationFailed = 3,

    /// <summary>The subscriber's profile does not include the key exchange proxy service.</summary>
    ProxyServiceNotSubscribed = 4,

    /// <summary>The profile does not allow the proxy service for this peer (address or port).</summary>
    PeerNotAllowed = 5,

    /// <summary>The profile does not allow this role (initiator or responder) for this peer.</summary>
    RoleNotAllowed = 6,

    /// <summary>The network sheds load; try later.</summary>
    Overloaded = 7,

    /// <summary>The IKE exchange with the peer failed for another reason (an error notify, a malformed answer).</summary>
    IkeFailed = 8,

    /// <summary>The peer accepted none of the proposed suites (NO_PROPOSAL_CHOSEN).</summary>
    NoProposalChosen = 9,

    /// <summary>The peer rejected our authentication, or its own did not verify (AUTHENTICATION_FAILED).</summary>
    PeerAuthenticationFailed = 10,

    /// <summary>The peer did not answer in time.</summary>
    Timeout = 11,

    /// <summary>A fault inside the network.</summary>
    Internal = 12,

    /// <summary>The peer accepted none of the traffic selectors (TS_UNACCEPTABLE).</summary>
    TsUnacceptable = 13,

    /// <summary>The proxy request was malformed or asked for something this network does not support.</summary>
    BadRequest = 14,
}
