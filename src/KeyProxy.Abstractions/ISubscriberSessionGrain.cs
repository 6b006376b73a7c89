using Orleans.Concurrency;

namespace KeyProxy.Abstractions;

/// <summary>
/// The subscriber grain's side of attach, detach and key delivery (seed: the authentication server
/// authenticates the terminal and pushes the profile copy, claims 7-10). Same grain as
/// <see cref="ISubscriberGrain"/> (key = NAI); kept apart so management and the data plane stay separate.
/// </summary>
public interface ISubscriberSessionGrain : IGrainWithStringKey
{
    /// <summary>
    /// Verifies the attach proof, records the attachment (revoking the profile copy on a previous
    /// edge), moves this activation to the edge's silo, and returns the network proof and profile copy.
    /// </summary>
    Task<AttachOutcome> Attach(AttachAttempt attempt);

    /// <summary>Ends the attachment if <paramref name="proof"/> is the detach proof for this tunnel; closes the handset's proxy sessions.</summary>
    Task<bool> Detach(string edgeId, uint tunnelId, byte[] proof);

    /// <summary>The edge lost the handset (it detached without a proof, or the edge stops): ends the attachment if it is still this one.</summary>
    Task Detached(string edgeId, uint tunnelId);

    /// <summary>
    /// Seals a key transfer (docs/wire.md) for the current attachment with its delivery key and the
    /// next counter; null when <paramref name="tunnelId"/> is no longer the current attachment.
    /// </summary>
    Task<byte[]?> SealKeyTransfer(uint tunnelId, byte[] content);

    /// <summary>Credentials for running IKE as this subscriber with <paramref name="peerAddress"/>; null if unknown, without the proxy service, or without a key for that peer.</summary>
    Task<ProxyCredentials?> GetProxyCredentials(string peerAddress);

    /// <summary>A proxy session of this subscriber started or ended (so detach can close them).</summary>
    Task SessionStarted(Guid session);

    /// <remarks>
    /// Interleaves: a session closed by this grain's detach (which awaits the sessions' Close) reports its end from
    /// inside that Close; without interleaving the two waited on each other until the detach's 5 s timeout.
    /// </remarks>
    [AlwaysInterleave]
    Task SessionEnded(Guid session);
}
