namespace KeyProxy.Abstractions;

/// <summary>
/// Ports and timers of proxied IKE (configuration section "KeyProxy:Network"), the same on every silo:
/// edges and proxy sessions both read them. The handset ports are those the edges bind on each attached
/// handset's address and the sessions speak IKE from (and give the handset for its ESP in UDP); the
/// peer ports are where the proxy sends a first IKE_SA_INIT (RFC 7296 2.23 / RFC 3948: 500 and 4500).
/// </summary>
public sealed class ProxyNetworkOptions
{
    public const string Section = "KeyProxy:Network";

    public int HandsetIkePort { get; set; } = 500;

    public int HandsetNatTPort { get; set; } = 4500;

    public int PeerIkePort { get; set; } = 500;

    public int PeerNatTPort { get; set; } = 4500;

    /// <summary>CHILD_SA soft lifetime: the proxy rekeys it then (and a new key transfer follows).</summary>
    public TimeSpan ChildRekeyAfter { get; set; } = TimeSpan.FromHours(1);

    /// <summary>CHILD_SA hard lifetime, given to the handset too.</summary>
    public TimeSpan ChildExpireAfter { get; set; } = TimeSpan.FromMinutes(70);

    /// <summary>IKE SA rekey interval; null: never (the peer may still rekey).</summary>
    public TimeSpan? IkeRekeyAfter { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Liveness checks (RFC 7296 2.4) when the peer was quiet this long; null: off.</summary>
    public TimeSpan? LivenessInterval { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>RFC 7296 2.4: the first retransmission of an unanswered IKE request after this long (then backing off by 1.8).</summary>
    public TimeSpan RetransmitTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>RFC 7296 2.4: after this many transmissions of one request the peer counts as dead and the IKE SA is closed.</summary>
    public int MaxTransmissions { get; set; } = 6;

    /// <summary>
    /// A proxy session initiating for a handset gives up an IKE SA not established after this long (a peer that does
    /// not answer) and refuses the handset's request as "peer not responding". Below the handset's own patience
    /// (30 s by default) so that the handset hears why.
    /// </summary>
    public TimeSpan EstablishTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// A handset's proxy request has its SA, or a refusal with a reason, within this long: an SA made but not handed over
    /// by then (the subscriber's storage down, so its key transfer cannot be sealed) is deleted at the peer and the edge
    /// refuses the request. Below the handset's own patience (30 s by default) and above <see cref="EstablishTimeout"/>.
    /// </summary>
    public TimeSpan RequestAnswerTimeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// RFC 7296 2.6 half-open IKE SAs: a responder session gives up an IKE SA still without IKE_AUTH after this long,
    /// and the edge stops counting it against its half-open bounds then.
    /// </summary>
    public TimeSpan HalfOpenTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Leases both ways between a subscriber and its proxy sessions (issue 8, no SA on one side only): each session
    /// asks its subscriber this often whether its handset is still attached as it was (else it closes, deleting the
    /// IKE SA at the peer), and the subscriber asks each of its sessions whether it still lives (a session whose silo
    /// died does not: the subscriber deletes the SAs it gave the handset). Null or zero: off.
    /// </summary>
    public TimeSpan? SessionAuditInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How often a subscriber that owes its handset SA deletes of dead sessions tries them again from its reminder
    /// (which outlives the subscriber's silo). Orleans refuses reminder periods under a minute unless its
    /// ReminderOptions.MinimumReminderPeriod is lowered, as tests do.
    /// </summary>
    public TimeSpan PendingDeleteRetry { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Fake a NAT (RFC 7296 2.23) so that every CHILD_SA is UDP-encapsulated (RFC 3948) even with a peer that sees none.
    /// False: plain ESP when no NAT is detected and the handset's edge can carry it (its TUN packet path); a detected NAT,
    /// or an edge on the socket path, encapsulates anyway.
    /// </summary>
    public bool ForceUdpEncapsulation { get; set; }

    /// <summary>Placement of proxy sessions: spread over the cluster (DH is the cost) or on the edge's own silo (latency).</summary>
    public ProxySessionPlacementMode Placement { get; set; } = ProxySessionPlacementMode.Spread;

    /// <summary>Every problem with these settings, named as in the configuration; empty when they can work.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        Port(nameof(HandsetIkePort), HandsetIkePort, errors);
        Port(nameof(HandsetNatTPort), HandsetNatTPort, errors);
        Port(nameof(PeerIkePort), PeerIkePort, errors);
        Port(nameof(PeerNatTPort), PeerNatTPort, errors);
        // RFC 3948: NAT-T moves IKE and ESP in UDP to a port of their own, told apart from the IKE port.
        if (HandsetIkePort == HandsetNatTPort)
            errors.Add($"{Section}:HandsetIkePort and {Section}:HandsetNatTPort are both {HandsetIkePort}; they must differ");
        if (PeerIkePort == PeerNatTPort)
            errors.Add($"{Section}:PeerIkePort and {Section}:PeerNatTPort are both {PeerIkePort}; they must differ");
        Positive(nameof(ChildRekeyAfter), ChildRekeyAfter, errors);
        if (ChildExpireAfter <= ChildRekeyAfter)
            errors.Add($"{Section}:ChildExpireAfter {ChildExpireAfter} is not after ChildRekeyAfter {ChildRekeyAfter}; the rekey must come before the expiry");
        if (IkeRekeyAfter is { } ike) Positive(nameof(IkeRekeyAfter), ike, errors);
        if (LivenessInterval is { } liveness) Positive(nameof(LivenessInterval), liveness, errors);
        Positive(nameof(RetransmitTimeout), RetransmitTimeout, errors);
        if (MaxTransmissions < 1)
            errors.Add($"{Section}:MaxTransmissions {MaxTransmissions} is below 1");
        Positive(nameof(HalfOpenTimeout), HalfOpenTimeout, errors);
        Positive(nameof(EstablishTimeout), EstablishTimeout, errors);
        Positive(nameof(RequestAnswerTimeout), RequestAnswerTimeout, errors);
        Positive(nameof(PendingDeleteRetry), PendingDeleteRetry, errors);
        if (SessionAuditInterval is { } audit && audit < TimeSpan.Zero)
            errors.Add($"{Section}:SessionAuditInterval {audit} is negative; zero or unset turns it off");
        if (!Enum.IsDefined(Placement))
            errors.Add($"{Section}:Placement {Placement} is not Spread or EdgeLocal");
        return errors;
    }

    private static void Port(string name, int port, List<string> errors)
    {
        if (port is < 1 or > 65535) errors.Add($"{Section}:{name} {port} is not a port (1-65535)");
    }

    private static void Positive(string name, TimeSpan value, List<string> errors)
    {
        if (value <= TimeSpan.Zero) errors.Add($"{Section}:{name} {value} is not a positive time");
    }
}
