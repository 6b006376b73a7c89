namespace KeyProxy.Handset;

/// <summary>Why the handset removed an SA pair.</summary>
public enum SaRemovalReason
{
    /// <summary>A key transfer said so (peer DELETE, IKE SA closed, expiry at the proxy).</summary>
    DeletedByNetwork,

    /// <summary>A rekeyed pair replaced it and traffic moved (or the overlap limit passed).</summary>
    Rekeyed,

    /// <summary>A hard lifetime ran out here.</summary>
    Expired,

    /// <summary>The handset detached.</summary>
    Detached,
}
