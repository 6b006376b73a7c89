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
