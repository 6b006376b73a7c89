namespace KeyProxy.Edge.Profiles;

/// <summary>The edge's answer to "may the proxy act for this handset here?" (seed S21/S22 with the profile copy).</summary>
public enum ProxyDecision : byte
{
    Allowed,

    /// <summary>The profile has no key exchange proxy service.</summary>
    NotSubscribed,

    /// <summary>No condition covers the peer (address, protocol or ports).</summary>
    PeerNotAllowed,

    /// <summary>A condition covers the peer but not in this role.</summary>
    RoleNotAllowed,
}
