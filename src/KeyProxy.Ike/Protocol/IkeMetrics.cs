using System.Diagnostics.Metrics;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Ike.Protocol;

/// <summary>
/// The engine's instruments, meter "KeyProxy.Ike" (System.Diagnostics.Metrics only: the engine stays sans-IO and knows
/// no exporter; a host that listens, e.g. OpenTelemetry's AddMeter, gets them). Labels are bounded enums: no SPI,
/// address or identity.
/// </summary>
public static class IkeMetrics
{
    public const string MeterName = "KeyProxy.Ike";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Exchanges = Meter.CreateCounter<long>("keyproxy.ike.exchanges", "{exchange}",
        "IKE request/response exchanges finished, by exchange type, our side (initiator: we sent the request) and result (ok, error, timeout)");

    private static readonly Counter<long> Retransmissions = Meter.CreateCounter<long>("keyproxy.ike.retransmissions", "{message}",
        "IKE requests sent again for want of a response (RFC 7296 2.1), by exchange type");

    private static readonly Counter<long> Cookies = Meter.CreateCounter<long>("keyproxy.ike.cookies", "{cookie}",
        "COOKIE notifies (RFC 7296 2.6): sent to an initiator, received from a responder, returned valid or invalid");

    /// <summary>An exchange this engine took part in ended; <paramref name="weRequested"/> is true when we sent its request.</summary>
    internal static void Exchange(ExchangeType type, bool weRequested, string result)
    {
        if (!Exchanges.Enabled) return;
        Exchanges.Add(1, new("ike.exchange.type", TypeName(type)), new("ike.exchange.side", weRequested ? "initiator" : "responder"),
            new("ike.exchange.result", result));
    }

    /// <summary>The result of an exchange from its response's notifies: an error type (below 16384, RFC 7296 3.10.1) is an error.</summary>
    internal static string ResultOf(IEnumerable<IkePayload> payloads) =>
        payloads.Any(p => p is NotifyPayload n && (int)n.NotifyType < 16384) ? "error" : "ok";

    internal static void Retransmitted(ExchangeType type)
    {
        if (Retransmissions.Enabled) Retransmissions.Add(1, new KeyValuePair<string, object?>("ike.exchange.type", TypeName(type)));
    }

    internal static void Cookie(string action)
    {
        if (Cookies.Enabled) Cookies.Add(1, new KeyValuePair<string, object?>("ike.cookie.action", action));
    }

    /// <summary>The exchange type as the metric's label and the IKE spans' attribute give it: ike_sa_init, ike_auth, create_child_sa, informational, ike_intermediate (RFC 9242), ike_followup_ke (RFC 9370).</summary>
    public static string TypeName(ExchangeType type) => type switch
    {
        ExchangeType.IkeSaInit => "ike_sa_init",
        ExchangeType.IkeAuth => "ike_auth",
        ExchangeType.CreateChildSa => "create_child_sa",
        ExchangeType.Informational => "informational",
        ExchangeType.IkeIntermediate => "ike_intermediate",
        ExchangeType.IkeFollowupKe => "ike_followup_ke",
        _ => "other",
    };
}
