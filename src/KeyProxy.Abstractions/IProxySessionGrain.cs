using Orleans.Concurrency;

namespace KeyProxy.Abstractions;

/// <summary>
/// One IKE SA negotiated on a handset's behalf (the seed's key exchange proxy server): it runs the
/// IKEv2 initiator or responder and all Diffie-Hellman work, sends through the handset's edge and
/// ends each CHILD_SA in a key transfer to the handset. Keyed by a fresh Guid; the edge routes IKE
/// to it by (handset address, IKE initiator SPI). The edge's calls are answered with what the edge
/// must do (<see cref="EdgeActions"/>: datagrams, routes, key transfers) instead of calls back to it.
/// </summary>
public interface IProxySessionGrain : IGrainWithGuidKey
{
    /// <summary>Flow 1: the handset's key exchange proxy request (the UDP payload, docs/wire.md), towards <paramref name="peerAddress"/>.</summary>
    Task<EdgeActions> StartInitiator(HandsetBinding handset, string peerAddress, byte[] proxyRequest);

    /// <summary>Flow 2: the peer's IKE_SA_INIT for the handset's address.</summary>
    Task<EdgeActions> StartResponder(HandsetBinding handset, IkeDatagram first);

    /// <summary>An IKE message from the peer (marker stripped); the answer is what the edge sends and delivers for it.</summary>
    Task<EdgeActions> HandleIke(IkeDatagram datagram);

    /// <summary>
    /// The edge could not deliver a key transfer of kind <paramref name="kind"/> (docs/wire.md: 1 install, 2 delete,
    /// 3 failure) that this session handed it: the handset is no longer attached there.
    /// </summary>
    [OneWay]
    Task KeyTransferUndelivered(byte kind);

    /// <summary>Deletes the IKE SA (handset detached, subscriber deleted) and deactivates.</summary>
    Task Close(string reason);

    Task<ProxySessionInfo?> GetInfo();

    /// <summary>
    /// A newer IKE SA of the same handset with this session's peer came with INITIAL_CONTACT from
    /// <paramref name="peerIdentity"/> (RFC 7296 2.4): a responder session whose authenticated peer is that identity
    /// deletes its IKE SA and its SAs at the handset, since the peer no longer holds its half.
    /// </summary>
    /// <remarks>
    /// Only responders: two handsets that initiate towards each other at once both send INITIAL_CONTACT, and an
    /// initiator closed for it would take the crossing exchange down with it. A stale initiator is the lease's and the
    /// liveness check's to end.
    /// </remarks>
    [OneWay]
    Task SupersededByInitialContact(string peerIdentity);

    /// <summary>
    /// The subscriber's audit (issue 8): whether this activation still runs an IKE SA for <paramref name="nai"/>'s
    /// handset. A fresh activation (the session's silo died) answers false and deactivates; the subscriber then
    /// deletes the SAs that session gave the handset.
    /// </summary>
    /// <remarks>Interleaved: the subscriber asks from its timer while this session may be waiting for the subscriber (sealing).</remarks>
    [AlwaysInterleave]
    Task<bool> HoldsSasFor(string nai);
}
