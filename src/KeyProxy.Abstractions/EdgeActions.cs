namespace KeyProxy.Abstractions;

/// <summary>
/// What a proxy session has the handset's edge do after one of its turns (issue 17: the grain calls of a proxied SA):
/// the answer to the edge's own call (StartInitiator, StartResponder, HandleIke), so that the session makes no grain
/// call back to the edge for the datagrams, routes and key transfers of an exchange; or, for a turn the edge did not
/// start (a timer, a close), one <see cref="IEdgeGrain.Apply"/>. The edge does them in this order: the session's old
/// routes removed (<see cref="ResetRoutes"/>), its new routes added (RFC 7296 2.18: a rekeyed IKE SA's SPI is routed
/// before the response that completes the rekey leaves), the key transfers delivered (a CHILD_SA is installed at the
/// handset before the response that lets the peer use it leaves), the datagrams sent, the IKE SA counted established,
/// and last every route removed (<see cref="Ended"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record EdgeActions(
    [property: Id(0)] string HandsetAddress,
    [property: Id(1)] IReadOnlyList<ulong> Routes,
    [property: Id(2)] IReadOnlyList<IkeDatagram> Datagrams,
    [property: Id(3)] IReadOnlyList<SealedKeyTransfer> KeyTransfers)
{
    /// <summary>Nothing to do.</summary>
    public static readonly EdgeActions None = new("", [], [], []);

    /// <summary>The session's routes go before <see cref="Routes"/> are added (an initiator starting a fresh IKE SA).</summary>
    [Id(4)] public bool ResetRoutes { get; init; }

    /// <summary>The session's IKE SA is established: not half-open any more (RFC 7296 2.6), listed by the edge.</summary>
    [Id(5)] public bool Established { get; init; }

    /// <summary>The session's IKE SA ended: its routes go after the datagrams (its DELETE) left.</summary>
    [Id(6)] public bool Ended { get; init; }

    /// <summary>The handset's request is refused by the edge, unsealed: its sealed answer could not be made (<see cref="SessionRefusal"/>).</summary>
    [Id(7)] public SessionRefusal? Refusal { get; init; }

    public bool IsEmpty => Routes.Count == 0 && Datagrams.Count == 0 && KeyTransfers.Count == 0 && !ResetRoutes && !Established && !Ended && Refusal is null;
}

/// <summary>
/// A key transfer sealed for the handset's attachment <paramref name="TunnelId"/> (docs/wire.md), to be delivered from
/// <paramref name="PeerAddress"/>:500. <paramref name="Kind"/> is the wire's key transfer kind (1 install, 2 delete,
/// 3 failure), named back to the session if the edge cannot deliver it. <paramref name="TraceParent"/>: the W3C id of
/// the session's key transfer span, so the edge's delivery span joins its trace (null when not traced).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record SealedKeyTransfer(
    [property: Id(0)] uint TunnelId,
    [property: Id(1)] string PeerAddress,
    [property: Id(2)] byte[] Message,
    [property: Id(3)] byte Kind,
    [property: Id(4)] string? TraceParent);
