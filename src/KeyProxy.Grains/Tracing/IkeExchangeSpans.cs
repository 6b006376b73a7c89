using System.Diagnostics;
using KeyProxy.Abstractions;
using KeyProxy.Ike.Messages;
using KeyProxy.Ike.Protocol;

namespace KeyProxy.Grains.Tracing;

/// <summary>
/// One span per IKE exchange of a proxy session (RFC 7296 1.2-1.5): from its request to its response, named after the
/// exchange type, with its message id and result. The engine calls this observer (<see cref="IIkeExchangeObserver"/>)
/// rather than the grain guessing exchanges from datagrams: only the engine knows which response ends which request and
/// with what result. A span starts as a child of the grain call that sent or received the request (in flow 1 the
/// IKE_SA_INIT under StartInitiator, IKE_AUTH under the HandleIke that brought IKE_SA_INIT's response), and ends in a later
/// call. Not thread-safe, like the engine: one grain turn at a time.
/// </summary>
internal sealed class IkeExchangeSpans(Guid session, ProxyRoles role) : IIkeExchangeObserver
{
    /// <summary>Exchanges in flight: at most one of ours and one of the peer's per IKE SA (window size 1, RFC 7296 2.3).</summary>
    private Dictionary<(bool WeRequested, uint MessageId), Activity>? _open;

    public void ExchangeStarted(ExchangeType exchange, uint messageId, bool weRequested)
    {
        if (!GrainTracing.Source.HasListeners()) return;
        var activity = GrainTracing.StartDetached(SpanName(exchange), weRequested ? ActivityKind.Client : ActivityKind.Server);
        if (activity is null) return;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("ike.exchange.type", IkeMetrics.TypeName(exchange));
            activity.SetTag("ike.message_id", (long)messageId);
            activity.SetTag("ike.exchange.side", weRequested ? "initiator" : "responder");
            activity.SetTag("keyproxy.proxy.role", GrainMetrics.Snake(role));
            activity.SetTag("keyproxy.session.id", session.ToString());
        }
        _open ??= [];
        // Another IKE SA of the session (a rekey's) reusing the message id: the older span ends here.
        if (_open.Remove((weRequested, messageId), out var older)) End(older, "superseded");
        _open[(weRequested, messageId)] = activity;
    }

    public void ExchangeEnded(ExchangeType exchange, uint messageId, bool weRequested, string result)
    {
        if (_open is not null && _open.Remove((weRequested, messageId), out var activity)) End(activity, result);
    }

    /// <summary>The session ends (or gives up its IKE SA): exchanges still in flight end with <paramref name="result"/>.</summary>
    public void EndAll(string result)
    {
        if (_open is null || _open.Count == 0) return;
        foreach (var activity in _open.Values) End(activity, result);
        _open.Clear();
    }

    private static void End(Activity activity, string result)
    {
        activity.SetTag("ike.exchange.result", result);
        // ok, and cookie (a COOKIE demand answered with the same request again, RFC 7296 2.6), are no failure.
        if (result is not ("ok" or "cookie")) activity.SetStatus(ActivityStatusCode.Error, result);
        GrainTracing.StopDetached(activity);
    }

    /// <summary>The exchange's name as RFC 7296 3.1 (and RFC 9242, 9370) writes it.</summary>
    private static string SpanName(ExchangeType exchange) => exchange switch
    {
        ExchangeType.IkeSaInit => "IKE_SA_INIT",
        ExchangeType.IkeAuth => "IKE_AUTH",
        ExchangeType.CreateChildSa => "CREATE_CHILD_SA",
        ExchangeType.Informational => "INFORMATIONAL",
        ExchangeType.IkeIntermediate => "IKE_INTERMEDIATE",
        ExchangeType.IkeFollowupKe => "IKE_FOLLOWUP_KE",
        _ => "IKE",
    };
}
