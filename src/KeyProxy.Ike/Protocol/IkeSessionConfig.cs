using System.Net;
using KeyProxy.Ike.Auth;
using KeyProxy.Ike.Crypto;
using KeyProxy.Ike.Messages;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Protocol;

/// <summary>Everything one IKE SA needs to know about itself and its peer.</summary>
public sealed record IkeSessionConfig
{
    public required IkeIdentity LocalIdentity { get; init; }
    public required IkeCredential LocalCredential { get; init; }
    public required PeerAuthentication PeerAuthentication { get; init; }

    /// <summary>The identity the initiator asks for in IDr (RFC 7296 2.15); also the one the peer must prove when set.</summary>
    public IkeIdentity? RemoteIdentity { get; init; }

    /// <summary>IKE SA proposals in order of preference; the initiator's first KE uses the first one's group.</summary>
    public required IReadOnlyList<IkeSuite> IkeProposals { get; init; }

    public required ChildSaConfig Child { get; init; }

    /// <summary>The IKE endpoints (port 500 or its configured stand-in) on both sides.</summary>
    public required IPEndPoint LocalEndpoint { get; init; }
    public required IPEndPoint RemoteEndpoint { get; init; }

    /// <summary>The NAT-T ports (RFC 7296 2.23; 4500 unless configured).</summary>
    public int LocalNatTraversalPort { get; init; } = 4500;
    public int RemoteNatTraversalPort { get; init; } = 4500;

    /// <summary>Pretend a NAT is there (RFC 7296 2.23 allows faking NAT_DETECTION_SOURCE_IP): IKE moves to NAT-T and ESP is UDP-encapsulated.</summary>
    public bool ForceUdpEncapsulation { get; init; }

    public RetransmissionPolicy Retransmission { get; init; } = RetransmissionPolicy.Default;

    /// <summary>Rekey the IKE SA this long after it was established (null: never start a rekey).</summary>
    public TimeSpan? IkeRekeyAfter { get; init; }

    /// <summary>Send an empty INFORMATIONAL after this long without hearing from the peer (RFC 7296 1.4, 2.4).</summary>
    public TimeSpan? LivenessInterval { get; init; }

    /// <summary>Largest IKE datagram before RFC 7383 fragmentation, when the peer supports it.</summary>
    public int MaxDatagramSize { get; init; } = 1280;

    /// <summary>A responder gives up a half-open IKE SA after this long without IKE_AUTH.</summary>
    public TimeSpan HalfOpenTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// An initiator gives up an IKE SA not established this long after <see cref="IkeSession.Start"/>, whatever its
    /// retransmissions still had to go (RFC 7296 2.4 leaves when to give up to the implementation): whoever waits for the
    /// IKE SA then hears in time. Null: only after <see cref="RetransmissionPolicy.MaxTransmissions"/>.
    /// </summary>
    public TimeSpan? EstablishTimeout { get; init; }

    /// <summary>
    /// Initiator: send INITIAL_CONTACT in IKE_AUTH (RFC 7296 2.4), asserting that no other IKE SA exists between the
    /// two identities, so that the peer drops any it still holds from a crashed predecessor.
    /// </summary>
    public bool SendInitialContact { get; init; }

    /// <summary>
    /// The inbound SPI of the first CHILD_SA this IKE SA makes (RFC 4303 2.1: 256 or more), chosen by the caller ahead of
    /// the exchange so that it can record it before the SA exists (the proxy's subscriber lists it with the session);
    /// null: random, as every later one.
    /// </summary>
    public uint? FirstChildInboundSpi { get; init; }
}

/// <summary>What to negotiate for the CHILD_SA(s) of this IKE SA.</summary>
public sealed record ChildSaConfig
{
    /// <summary>ESP proposals in order of preference. A proposal's DH group is used for PFS in CREATE_CHILD_SA only.</summary>
    public required IReadOnlyList<EspSuite> Proposals { get; init; }

    /// <summary>Our side's selectors (TSi for the initiator, TSr for the responder).</summary>
    public required IReadOnlyList<TrafficSelector> LocalSelectors { get; init; }
    public required IReadOnlyList<TrafficSelector> RemoteSelectors { get; init; }

    public ChildSaMode Mode { get; init; } = ChildSaMode.Tunnel;

    /// <summary>Rekey CHILD_SAs this node created this long after creation (null: never start a rekey).</summary>
    public TimeSpan? RekeyAfter { get; init; }

    /// <summary>Hard lifetime reported with each CHILD_SA.</summary>
    public TimeSpan? ExpireAfter { get; init; }
}

/// <summary>RFC 7296 2.4: retransmit requests with exponential back-off, give up after a number of tries.</summary>
public sealed record RetransmissionPolicy(TimeSpan InitialTimeout, double Backoff, int MaxTransmissions)
{
    public static readonly RetransmissionPolicy Default = new(TimeSpan.FromSeconds(2), 1.8, 6);

    public TimeSpan TimeoutFor(int transmission) =>
        TimeSpan.FromTicks((long)(InitialTimeout.Ticks * Math.Pow(Backoff, transmission - 1)));
}
