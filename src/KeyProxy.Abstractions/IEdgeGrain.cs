using Orleans.Concurrency;

namespace KeyProxy.Abstractions;

/// <summary>
/// The edge gateway of one edge silo as grains see it (key = edge id; placed on that silo). Proxy
/// sessions send their IKE through it as the handset's address and hand it key transfers; the
/// subscriber grain revokes profile copies through it.
/// </summary>
public interface IEdgeGrain : IGrainWithStringKey
{
    /// <summary>
    /// Does what a proxy session's turn produced outside a call from this edge (its timer: retransmissions, rekeys,
    /// liveness; its close) for <paramref name="session"/>. Not one-way: a session closing because its handset
    /// detaches must know its DELETE left before the edge drops the handset's sockets.
    /// </summary>
    Task Apply(Guid session, EdgeActions actions);

    /// <summary>Delivers a sealed key transfer to the handset in the tunnel (as UDP peer:500 to handset:500).</summary>
    Task<bool> DeliverKeyTransfer(uint tunnelId, string peerAddress, byte[] sealedMessage);

    /// <summary>Removes every route of the session (its IKE SA ended).</summary>
    Task RemoveRoutes(Guid session);

    /// <summary>The proxy sessions whose IKE SA is established and routed at this edge (the session directory's listing).</summary>
    Task<IReadOnlyList<Guid>> EstablishedSessions();

    /// <summary>The subscriber attached elsewhere (or was deleted): drop the tunnel and the profile copy.</summary>
    Task Revoke(string nai, uint tunnelId);

    /// <summary>Attachments and counters of this edge.</summary>
    Task<EdgeStatus> GetStatus();
}

/// <summary>An edge's attachments (NAI, address, tunnel) and what its counters say.</summary>
[GenerateSerializer, Immutable]
public sealed record EdgeStatus(
    [property: Id(0)] string EdgeId,
    [property: Id(1)] IReadOnlyList<HandsetBinding> Attachments,
    [property: Id(2)] IReadOnlyDictionary<string, long> Counters,
    [property: Id(3)] int Routes);
