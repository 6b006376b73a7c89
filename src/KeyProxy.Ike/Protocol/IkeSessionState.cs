namespace KeyProxy.Ike.Protocol;

/// <summary>Where an IKE SA is in its life (RFC 7296 1.2).</summary>
public enum IkeSessionState
{
    /// <summary>Created, nothing sent or received yet.</summary>
    Idle,
    /// <summary>IKE_SA_INIT under way.</summary>
    Initializing,
    /// <summary>IKE_SA_INIT done, IKE_AUTH under way.</summary>
    Authenticating,
    Established,
    /// <summary>Delete sent, waiting for its response.</summary>
    Deleting,
    Closed,
}
