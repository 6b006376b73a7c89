using System.Diagnostics.Metrics;
using KeyProxy.Abstractions;
using KeyProxy.Wire;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Grains;

/// <summary>
/// The grains' instruments, meter "KeyProxy.Grains": proxy sessions, key transfers, SA rekeys and deletes, attaches.
/// Every label is a bounded enum name in snake_case; no subscriber identity, address, SPI or key ever becomes one.
/// </summary>
public static class GrainMetrics
{
    public const string MeterName = "KeyProxy.Grains";

    /// <summary>Bucket bounds (seconds) of <c>keyproxy.proxy.sa.setup.duration</c>, fine enough for a p99 within 10%.</summary>
    public static readonly double[] SetupBuckets =
        [0.002, 0.004, 0.006, 0.008, 0.01, 0.0125, 0.015, 0.0175, 0.02, 0.025, 0.03, 0.035, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09,
         0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 7.5, 10, 15, 20, 30];

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Started = Meter.CreateCounter<long>("keyproxy.proxy.sessions.started", "{session}",
        "Proxy sessions started, by role");
    private static readonly Counter<long> Established = Meter.CreateCounter<long>("keyproxy.proxy.sessions.established", "{session}",
        "Proxy sessions whose IKE SA with the peer was established, by role");
    private static readonly Counter<long> Failed = Meter.CreateCounter<long>("keyproxy.proxy.sessions.failed", "{session}",
        "Proxy requests refused or failed, by role and reason (the ProxyFailure reason the handset gets)");
    private static readonly Histogram<double> SetupDuration = Meter.CreateHistogram("keyproxy.proxy.sa.setup.duration", "s",
        "From a proxy session's start (proxy request or the peer's IKE_SA_INIT at the grain) to its first SA delivered to the handset's edge",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SetupBuckets });
    private static readonly Counter<long> Sealed = Meter.CreateCounter<long>("keyproxy.key_transfers.sealed", "{message}",
        "Key transfers sealed under a subscriber's delivery key, by kind");
    private static readonly Counter<long> Delivered = Meter.CreateCounter<long>("keyproxy.key_transfers.delivered", "{message}",
        "Key transfers the handset's edge took for its tunnel, by kind");
    private static readonly Counter<long> Undelivered = Meter.CreateCounter<long>("keyproxy.key_transfers.undelivered", "{message}",
        "Key transfers that did not reach the handset's edge, by kind and reason");
    private static readonly Counter<long> Rekeys = Meter.CreateCounter<long>("keyproxy.sa.rekeys", "{rekey}",
        "SA rekeys of proxy sessions, by SA type (ike, child)");
    private static readonly Counter<long> Deletes = Meter.CreateCounter<long>("keyproxy.sa.deletes", "{sa}",
        "CHILD_SAs deleted at the handset by key transfer, by reason");
    private static readonly Counter<long> Attaches = Meter.CreateCounter<long>("keyproxy.attach.results", "{attach}",
        "Handset attach attempts at the subscriber grain, by result");

    internal static void SessionStarted(ProxyRoles role) => Started.Add(1, Role(role));

    internal static void SessionEstablished(ProxyRoles role) => Established.Add(1, Role(role));

    internal static void SessionFailed(ProxyRoles role, KeyProxyReason reason) =>
        Failed.Add(1, Role(role), new("error.type", Snake(reason)));

    internal static void SaDelivered(ProxyRoles role, TimeSpan sinceStart) => SetupDuration.Record(sinceStart.TotalSeconds, Role(role));

    internal static void KeyTransferSealed(KeyTransferKind kind) => Sealed.Add(1, Kind(kind));

    internal static void KeyTransferDelivered(KeyTransferKind kind) => Delivered.Add(1, Kind(kind));

    /// <summary><paramref name="reason"/>: encode_failed, seal_failed, not_attached.</summary>
    internal static void KeyTransferUndelivered(KeyTransferKind kind, string reason) => Undelivered.Add(1, Kind(kind), new("error.type", reason));

    internal static void SaRekeyed(bool ike) => Rekeys.Add(1, new KeyValuePair<string, object?>("keyproxy.sa.type", ike ? "ike" : "child"));

    internal static void SasDeleted(SaDeleteReason reason, int count) =>
        Deletes.Add(count, new KeyValuePair<string, object?>("keyproxy.sa.delete.reason", Snake(reason)));

    /// <summary>accepted, or the reject reason.</summary>
    internal static void Attach(KeyProxyReason? rejected) =>
        Attaches.Add(1, new KeyValuePair<string, object?>("keyproxy.attach.result", rejected is { } r ? Snake(r) : "accepted"));

    private static KeyValuePair<string, object?> Role(ProxyRoles role) => new("keyproxy.proxy.role", Snake(role));

    private static KeyValuePair<string, object?> Kind(KeyTransferKind kind) => new("keyproxy.key_transfer.kind", Snake(kind));

    /// <summary>
    /// <paramref name="value"/>'s name in snake_case, made once per value (a label or tag on every proxied SA: formatting
    /// it each time was about 0.5 KiB per SA, docs/PERFORMANCE.md "Allocation per proxied SA").
    /// </summary>
    public static string Snake<TEnum>(TEnum value) where TEnum : struct, Enum =>
        SnakeNames<TEnum>.Names.GetOrAdd(value, static v => Snake(v.ToString()));

    private static class SnakeNames<TEnum> where TEnum : struct, Enum
    {
        public static readonly System.Collections.Concurrent.ConcurrentDictionary<TEnum, string> Names = new();
    }

    /// <summary>PascalCase to snake_case (enum names only: bounded).</summary>
    public static string Snake(string name)
    {
        var sb = new System.Text.StringBuilder(name.Length + 4);
        for (int i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(name[i]));
        }
        return sb.ToString();
    }
}
