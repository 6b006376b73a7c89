namespace KeyProxy.Load.Chaos;

/// <summary>
/// The silos' settings for the soak (as tests/KeyProxy.Cluster.Tests/FaultSettings.cs: short session leases, dead IKE
/// peers noticed within seconds, fast failure detection) and the bound on an SA held at a handset without its other
/// half, derived from them (docs/RELIABILITY.md, "The bound").
/// </summary>
public static class ChaosSettings
{
    /// <summary>The subscriber's audit of its sessions (<c>Network:SessionAuditInterval</c>).</summary>
    public static readonly TimeSpan AuditInterval = TimeSpan.FromSeconds(2);

    /// <summary>How long the audit's probe of a session may wait (on a silo not yet declared dead) before it gives up.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The subscriber's reminder period (<c>Network:PendingDeleteRetry</c>): after a silo death that took a subscriber and
    /// its handset's session together, the reminder brings the subscriber back on a live silo within it.
    /// </summary>
    public static readonly TimeSpan ReminderPeriod = TimeSpan.FromSeconds(2);

    /// <summary>IKE liveness: a check after this much silence (<c>Network:LivenessInterval</c>).</summary>
    public static readonly TimeSpan LivenessInterval = TimeSpan.FromSeconds(3);

    /// <summary>First retransmission wait and transmissions of an IKE request (<c>Network:RetransmitTimeout</c>, <c>MaxTransmissions</c>).</summary>
    public static readonly TimeSpan RetransmitTimeout = TimeSpan.FromSeconds(0.5);

    public const int MaxTransmissions = 5;

    /// <summary>The engine's retransmission back-off factor (RFC 7296 2.1 leaves it to the implementation).</summary>
    public const double Backoff = 1.8;

    /// <summary>
    /// The longest time membership takes to declare a killed or isolated silo dead that the soak allows: fast failure
    /// detection (probes time out after 1 s, two misses suspect; IAmAlive every 2 s, two missed make a row stale; the
    /// table read every 2 s) declares it in 2-4 s on an idle machine; the cluster tests saw up to 25 s with two other
    /// clusters on the two cores.
    /// </summary>
    public static readonly TimeSpan FailureDetectionAllowed = TimeSpan.FromSeconds(30);

    /// <summary>The longest storage outage the injector makes: an SA delete a subscriber owes waits for storage (a sealed key transfer needs its counter).</summary>
    public static readonly TimeSpan StorageOutageMax = TimeSpan.FromSeconds(20);

    /// <summary>From a key transfer sealed to its delivery at a handset on a busy machine (grain call to the edge, access link).</summary>
    public static readonly TimeSpan DeliverySlack = TimeSpan.FromSeconds(5);

    /// <summary>Every IKE transmission of one request, and the waits after them: 0.5 + 0.9 + 1.62 + 2.92 + 5.25 s.</summary>
    public static TimeSpan RetransmissionSpan
    {
        get
        {
            double total = 0, wait = RetransmitTimeout.TotalSeconds;
            for (int i = 0; i < MaxTransmissions; i++, wait *= Backoff) total += wait;
            return TimeSpan.FromSeconds(total);
        }
    }

    /// <summary>
    /// Path 1, the handset's proxy session died (its silo killed or cut off), its subscriber alive: the subscriber's audit
    /// finds it gone once membership declared the silo dead (a probe of the dead silo before may wait out its timeout),
    /// then deletes the SA at the handset: detection + audit interval + probe timeout + delivery; a storage outage at that
    /// moment delays the sealed delete by up to the outage.
    /// </summary>
    public static TimeSpan AuditPath => FailureDetectionAllowed + AuditInterval + ProbeTimeout + StorageOutageMax + DeliverySlack;

    /// <summary>
    /// Path 1 with the subscriber dead too (the double death): its reminder ticks on a live silo within its period once the
    /// death is declared, the new activation reads the durable session record and audits after an interval: detection +
    /// reminder period + audit interval + storage outage + delivery.
    /// </summary>
    public static TimeSpan DoubleDeathPath => FailureDetectionAllowed + ReminderPeriod + AuditInterval + StorageOutageMax + DeliverySlack;

    /// <summary>
    /// Path 2, the session lives but the peer lost its half (it never got the IKE_AUTH answer, or deleted it): the
    /// session's liveness check after the silence, unanswered through every retransmission, closes it and deletes the
    /// SA at the handset: liveness interval + retransmissions + delivery.
    /// </summary>
    public static TimeSpan LivenessPath => LivenessInterval + RetransmissionSpan + DeliverySlack;

    /// <summary>The bound: the longest of the paths.</summary>
    public static TimeSpan OneSidedBound => new[] { AuditPath, DoubleDeathPath, LivenessPath }.Max();

    /// <summary>The handsets' proxy request budget (RequestRetryPolicy.Default: 2 + 4 + 8 + 16 s); beyond it the request went unanswered.</summary>
    public static readonly TimeSpan ProxyAnswerBound = TimeSpan.FromSeconds(30);

    /// <summary>How long the soak waits for a proxy request's outcome before it counts it unanswered (the bound plus a margin for the load process itself).</summary>
    public static readonly TimeSpan ProxyWait = TimeSpan.FromSeconds(35);

    /// <summary>The handsets' access-link liveness: an echo after this much quiet, the attachment lost after <see cref="KeepaliveMisses"/> unanswered.</summary>
    public static readonly TimeSpan KeepaliveInterval = TimeSpan.FromSeconds(2);

    public const int KeepaliveMisses = 3;

    /// <summary>The silos' environment (cluster.sh passes KeyProxy__* on to every silo).</summary>
    public static Dictionary<string, string> SiloEnvironment() => new()
    {
        ["KeyProxy__Network__SessionAuditInterval"] = Format(AuditInterval),
        ["KeyProxy__Network__PendingDeleteRetry"] = Format(ReminderPeriod),
        ["KeyProxy__Network__LivenessInterval"] = Format(LivenessInterval),
        ["KeyProxy__Network__RetransmitTimeout"] = Format(RetransmitTimeout),
        ["KeyProxy__Network__MaxTransmissions"] = MaxTransmissions.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // The dashboard is the soak's view of membership and activations; it stays on.
        ["KeyProxy__DashboardEnabled"] = "true",
        // Every log line with its UTC time, to line the silos' logs up with the injector's.
        ["Logging__Console__FormatterName"] = "simple",
        ["Logging__Console__FormatterOptions__TimestampFormat"] = "HH:mm:ss.fff ",
        ["Logging__Console__FormatterOptions__UseUtcTimestamp"] = "true",
    };

    private static string Format(TimeSpan t) => t.ToString("c", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The bound and its terms, one line each, as the soak prints it.</summary>
    public static IEnumerable<string> Describe()
    {
        yield return $"audit path: failure detection allowed {FailureDetectionAllowed.TotalSeconds:F0} s + audit interval {AuditInterval.TotalSeconds:F0} s + probe timeout {ProbeTimeout.TotalSeconds:F0} s"
            + $" + storage outage at most {StorageOutageMax.TotalSeconds:F0} s + delivery {DeliverySlack.TotalSeconds:F0} s = {AuditPath.TotalSeconds:F0} s";
        yield return $"double-death path: failure detection allowed {FailureDetectionAllowed.TotalSeconds:F0} s + reminder period {ReminderPeriod.TotalSeconds:F0} s + audit interval {AuditInterval.TotalSeconds:F0} s"
            + $" + storage outage at most {StorageOutageMax.TotalSeconds:F0} s + delivery {DeliverySlack.TotalSeconds:F0} s = {DoubleDeathPath.TotalSeconds:F0} s";
        yield return $"liveness path: liveness interval {LivenessInterval.TotalSeconds:F0} s + {MaxTransmissions} transmissions from {RetransmitTimeout.TotalSeconds:F1} s (x{Backoff}) {RetransmissionSpan.TotalSeconds:F1} s"
            + $" + delivery {DeliverySlack.TotalSeconds:F0} s = {LivenessPath.TotalSeconds:F1} s";
        yield return $"bound on an SA at a handset without its other half: {OneSidedBound.TotalSeconds:F0} s; proxy requests answered within {ProxyAnswerBound.TotalSeconds:F0} s";
    }
}
