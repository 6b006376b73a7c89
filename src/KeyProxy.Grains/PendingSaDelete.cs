namespace KeyProxy.Grains;

/// <summary>
/// An SA delete the subscriber owes its handset: the SAs a dead proxy session installed (their inbound SPIs), for
/// the attachment they belong to (<paramref name="TunnelId"/>) and the peer they were with. Persisted until delivered,
/// so it outlives the subscriber's silo (see <see cref="SubscriberGrain"/>'s reminder).
/// </summary>
[GenerateSerializer]
public sealed record PendingSaDelete(
    [property: Id(0)] uint TunnelId,
    [property: Id(1)] string Peer,
    [property: Id(2)] uint[] InboundSpis);

/// <summary>
/// A proxy session the subscriber listed (issue 15): its id, the attachment it served, its peer and the inbound SPIs it
/// installed (or is about to install) at the handset. One entry of the durable session record
/// (<see cref="SubscriberSessionsState"/>), written before any of those SAs reaches the handset.
/// </summary>
[GenerateSerializer]
public sealed record ListedSession(
    [property: Id(0)] Guid Session,
    [property: Id(1)] uint TunnelId,
    [property: Id(2)] string? Peer,
    [property: Id(3)] uint[] InboundSpis);
