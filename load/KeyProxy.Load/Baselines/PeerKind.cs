namespace KeyProxy.Load.Baselines;

/// <summary>Who answers the handsets' (or the proxy's) IKE in a scenario.</summary>
public enum PeerKind
{
    /// <summary><see cref="Peers.ResponderPeers"/> of our own engine, in this process.</summary>
    Engine,

    /// <summary>One charon (<see cref="CharonResponderPeer"/>) on the peer ports of this host's loopback.</summary>
    StrongSwan,

    /// <summary>Already running elsewhere (e.g. a <c>keyproxy-load peers</c> child process, so its CPU is counted apart).</summary>
    External,
}

/// <summary>Parsing of <c>--peer</c>.</summary>
public static class PeerKinds
{
    public static bool TryParse(string? text, out PeerKind kind)
    {
        switch ((text ?? "").Trim().ToLowerInvariant())
        {
            case "engine" or "own" or "keyproxy": kind = PeerKind.Engine; return true;
            case "strongswan" or "charon": kind = PeerKind.StrongSwan; return true;
            case "external" or "none": kind = PeerKind.External; return true;
            default: kind = PeerKind.Engine; return false;
        }
    }
}
