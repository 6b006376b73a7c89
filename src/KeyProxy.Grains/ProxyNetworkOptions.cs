namespace KeyProxy.Grains;

/// <summary>
/// Ports and timers of proxied IKE (configuration section "KeyProxy:Network"). The handset ports
/// are those the edges bind on each attached handset's address; the peer ports are where the
/// proxy sends a first IKE_SA_INIT (RFC 7296 2.23 / RFC 3948: 500 and 4500).
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

    /// <summary>A responder session gives up an IKE SA that is still half-open (no IKE_AUTH) after this long, and deactivates.</summary>
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

    /// <summary>Placement of proxy sessions: spread over the cluster (DH is the cost) or on the edge's own silo (latency).</summary>
    public ProxySessionPlacementMode Placement { get; set; } = ProxySessionPlacementMode.Spread;
}

public enum ProxySessionPlacementMode
{
    Spread,
    EdgeLocal,
}
