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
    /// The grain remembers which inbound SPIs each <paramref name="session"/> installed at the handset
    /// (and which it deleted), so that it can delete them itself when that session dies with its silo.
    /// <paramref name="initialContactFrom"/>: the peer identity whose IKE SA that installs this SA came with INITIAL_CONTACT
    /// (RFC 7296 2.4); the handset's older responder sessions with that peer and identity are then closed. One call for
    /// both (issue 17), since the install is the moment the new SA replaces the old.
    /// </summary>
    Task<byte[]?> SealKeyTransfer(Guid session, uint tunnelId, byte[] content, string? initialContactFrom);

    /// <summary>
    /// A proxy session of this subscriber starts towards <paramref name="peerAddress"/> for the handset's attachment
    /// <paramref name="tunnelId"/>: the credentials for running IKE as this subscriber with that peer, and the session is
    /// listed (so detach closes it and the audit checks it) with <paramref name="firstInboundSpi"/>, the inbound SPI its
    /// first CHILD_SA will have at the handset (0: none chosen), as if installed; and, while that is the current
    /// attachment, a <see cref="KeyTransferGrant"/> so the session seals its first key transfer itself. Null, and not
    /// listed, if unknown, without the proxy service, or without a key for that peer. One call for all of it (issue 17:
    /// the grain calls of a proxied SA).
    /// </summary>
    /// <remarks>
    /// Interleaved like <see cref="SessionEnded"/>; it reads, reserves and lists in one turn, then waits for the durable
    /// session record (issue 15: written before the grant leaves, so no SA reaches the handset unrecorded).
    /// </remarks>
    [AlwaysInterleave]
    Task<ProxyCredentials?> BeginSession(Guid session, uint tunnelId, string peerAddress, uint firstInboundSpi);

    /// <summary>A proxy session of this subscriber ended.</summary>
    /// <remarks>
    /// Interleaved: detach awaits the sessions' Close, and a closing session reports back here
    /// from inside that call; without interleaving every detach waited out its 5 s close timeout.
    /// Safe because the grain only touches its session set between awaits.
    /// </remarks>
    [AlwaysInterleave]
    Task SessionEnded(Guid session);

    /// <summary>
    /// The session's lease (issue 8, no SA on one side only): true while (<paramref name="edgeId"/>,
    /// <paramref name="tunnelId"/>) is still the handset's attachment, and then the session is listed again
    /// with <paramref name="inboundSpis"/> (restores the in-memory list after this grain's reactivation);
    /// false once the handset detached or attached again, and then the session closes itself.
    /// </summary>
    /// <remarks>Interleaved like <see cref="SessionEnded"/>: the session asks from its timer, and this grain may be asking it at the same time.</remarks>
    [AlwaysInterleave]
    Task<bool> RenewSession(Guid session, string edgeId, uint tunnelId, string peerAddress, uint[] inboundSpis);
}
