using System.Diagnostics.Metrics;

namespace KeyProxy.Silo.Security;

/// <summary>
/// Refused cluster TLS connections (issue 16 items 3 and 6), meter "KeyProxy.Silo", <c>keyproxy.cluster.tls.refusals</c>
/// (<c>keyproxy_cluster_tls_refusals_total</c> in Prometheus) with a bounded direction and reason, never a peer's address
/// or certificate.
/// </summary>
public static class ClusterTlsMetrics
{
    public const string MeterName = Telemetry.AdminApiMetrics.MeterName;

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Refusals = Meter.CreateCounter<long>("keyproxy.cluster.tls.refusals", "{connection}",
        "Silo and gateway connections refused by cluster TLS: inbound (a silo or client connecting here) or outbound (this silo connecting to a silo), by reason");

    /// <summary>Counts one refusal; <paramref name="reason"/> is one of <see cref="PeerVerdict"/>'s reasons or <c>handshake_failed</c>.</summary>
    public static void CountRefusal(string direction, string reason) =>
        Refusals.Add(1, new KeyValuePair<string, object?>("keyproxy_tls_direction", direction), new KeyValuePair<string, object?>("keyproxy_tls_reason", reason));
}
