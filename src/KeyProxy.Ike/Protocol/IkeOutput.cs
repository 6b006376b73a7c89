using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>What the engine asks its host to do, or tells it, after each input.</summary>
public abstract record IkeOutput;

/// <summary>
/// Send one IKE datagram to the peer. With <see cref="NatTraversal"/> it goes between the NAT-T
/// ports (RFC 7296 2.23) and the host prepends the non-ESP marker (RFC 3948 2.2).
/// </summary>
public sealed record SendDatagram(ReadOnlyMemory<byte> Data, bool NatTraversal) : IkeOutput
{
    public override string ToString() => $"SendDatagram({Data.Length} bytes{(NatTraversal ? ", NAT-T" : "")})";
}

/// <summary>Something happened to the IKE SA or one of its CHILD_SAs.</summary>
public abstract record IkeEvent : IkeOutput;

/// <summary>
/// IKE_AUTH completed: the IKE SA is authenticated both ways. <paramref name="PeerInitialContact"/>: the initiator's
/// authenticated IKE_AUTH request carried INITIAL_CONTACT (RFC 7296 2.4), asserting that this is the only IKE SA between
/// the two identities, so any older one with that peer identity is stale and may be deleted (responder side only).
/// </summary>
public sealed record IkeSaEstablished(ulong InitiatorSpi, ulong ResponderSpi, IkeSuite Suite, string PeerIdentity, bool PeerInitialContact = false) : IkeEvent;

/// <summary>The IKE SA was rekeyed (RFC 7296 2.18): from now on the peer uses the new SPIs.</summary>
public sealed record IkeSaRekeyed(ulong OldInitiatorSpi, ulong OldResponderSpi, ulong InitiatorSpi, ulong ResponderSpi) : IkeEvent;

/// <summary>The IKE SA is gone, with every CHILD_SA it had (each reported first as <see cref="ChildSaDeleted"/>).</summary>
public sealed record IkeSaClosed(IkeCloseReason Reason, NotifyType? Notify = null, string? Detail = null) : IkeEvent;

/// <summary>A CHILD_SA is ready for ESP: everything an ESP implementation needs is in <see cref="ChildSa"/>.</summary>
public sealed record ChildSaEstablished(ChildSa ChildSa) : IkeEvent;

/// <summary>A CHILD_SA was rekeyed (RFC 7296 2.8): <see cref="Replacement"/> takes over; the old one is deleted separately.</summary>
public sealed record ChildSaRekeyed(uint OldInboundSpi, ChildSa Replacement) : IkeEvent;

/// <summary>A CHILD_SA was deleted, by either side.</summary>
public sealed record ChildSaDeleted(uint InboundSpi, uint OutboundSpi, bool ByPeer) : IkeEvent;

/// <summary>A CHILD_SA could not be created; the IKE SA itself may live on.</summary>
public sealed record ChildSaFailed(NotifyType Reason, string Detail) : IkeEvent;

/// <summary>An input was dropped: counted by the host, never fatal.</summary>
public sealed record IkeMessageDropped(IkeDropReason Reason, string Detail) : IkeEvent;

public enum IkeCloseReason
{
    /// <summary>Closed locally (Delete sent, or the host asked for it).</summary>
    Local,
    /// <summary>The peer deleted the IKE SA.</summary>
    DeletedByPeer,
    /// <summary>Replaced by a rekeyed IKE SA; nothing is lost.</summary>
    Rekeyed,
    AuthenticationFailed,
    NoProposalChosen,
    /// <summary>The peer sent an error notify that ends the IKE SA.</summary>
    PeerError,
    /// <summary>Retransmissions exhausted (RFC 7296 2.4).</summary>
    Timeout,
    /// <summary>The peer's message violated the protocol in a way that ends the IKE SA.</summary>
    ProtocolError,
}

public enum IkeDropReason
{
    Malformed,
    WrongSpi,
    UnexpectedMessageId,
    IntegrityCheckFailed,
    UnexpectedExchange,
    Duplicate,
    Closed,
}
