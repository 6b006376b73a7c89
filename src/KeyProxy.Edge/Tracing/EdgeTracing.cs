using System.Diagnostics;
using KeyProxy.Ike.Messages;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Edge.Tracing;

/// <summary>
/// The edge's spans, activity source "KeyProxy.Edge" (issue 20 item 3): a handset's key exchange proxy request (flow 1's
/// root) and each IKE datagram from a peer that the edge hands to a proxy session (flow 2's root when it starts one). The
/// grain call the edge then makes is their child (Orleans' activity propagation). Only IKE and proxy requests: ESP and
/// other routed traffic (S24) never touch this class. Without a listener every method returns null at once.
/// </summary>
public static class EdgeTracing
{
    public const string SourceName = "KeyProxy.Edge";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// Flow 1 (claims 1-2): the proxy request a handset sent towards <paramref name="peer"/>, a new trace; a retransmitted
    /// one (<paramref name="retriedIn"/> set) joins the trace of the exchange its first transmission began, while that
    /// is remembered. Current until <see cref="Leave"/>.
    /// </summary>
    internal static Activity? StartProxyRequest(string edgeId, string nai, in IpAddressValue peer, uint requestId, Guid session, ExchangeTraces? retriedIn)
    {
        if (!Source.HasListeners()) return null;
        var activity = Source.StartActivity("keyproxy.proxy_request", ActivityKind.Server, retriedIn?.OfProxyRequest(session) ?? default);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("keyproxy.edge.id", edgeId);
            activity.SetTag("keyproxy.subscriber.nai", nai);
            activity.SetTag("network.peer.address", peer.ToString());
            activity.SetTag("keyproxy.proxy.request_id", (long)requestId);
            activity.SetTag("keyproxy.session.id", session.ToString());
            activity.SetTag("keyproxy.proxy.retransmitted", retriedIn is not null);
        }
        return activity;
    }

    /// <summary>
    /// A peer's IKE datagram of type <paramref name="exchange"/> for <paramref name="session"/>: a child of the span that
    /// began the session's exchange here when <paramref name="exchanges"/> says it belongs to it, else a new trace (also
    /// when <paramref name="exchanges"/> is null: the datagram starts the session, flow 2); current until <see cref="Leave"/>.
    /// </summary>
    internal static Activity? StartIkeReceive(string edgeId, string nai, string peer, Guid session, ExchangeType exchange, ExchangeTraces? exchanges)
    {
        if (!Source.HasListeners()) return null;
        var startsSession = exchanges is null;
        var activity = Source.StartActivity("keyproxy.ike.receive", ActivityKind.Consumer, exchanges?.Of(session, exchange) ?? default);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("keyproxy.edge.id", edgeId);
            activity.SetTag("keyproxy.subscriber.nai", nai);
            activity.SetTag("network.peer.address", peer);
            activity.SetTag("keyproxy.session.id", session.ToString());
            activity.SetTag("keyproxy.session.starts", startsSession);
        }
        return activity;
    }

    /// <summary>
    /// After the grain call is made under <paramref name="span"/>: the receive loop's activity (none) is current again, so
    /// that the next datagram does not become the span's child; the span itself ends with the call.
    /// </summary>
    internal static void Leave(Activity? span, Activity? previous)
    {
        if (span is not null) Activity.Current = previous;
    }

    /// <summary>Ends <paramref name="span"/> when the grain call made under it ends, failed or not.</summary>
    internal static void CallEnded(Activity? span, Exception? failure)
    {
        if (span is null) return;
        if (failure is not null) span.SetStatus(ActivityStatusCode.Error, failure.GetType().Name);
        span.Stop();
    }

    /// <summary>
    /// The edge delivering a key transfer a proxy session sealed: a child of the session's key transfer span
    /// (<paramref name="traceParent"/>, its W3C id) when it has one, else of the current span; ended by
    /// <see cref="KeyTransferDelivered"/>.
    /// </summary>
    internal static Activity? StartKeyTransferDelivery(string edgeId, Guid session, KeyTransferKind kind, string? traceParent)
    {
        if (!Source.HasListeners()) return null;
        var previous = Activity.Current;
        ActivityContext parent = default;
        if (traceParent is not null) ActivityContext.TryParse(traceParent, null, out parent);
        var activity = Source.StartActivity("keyproxy.key_transfer.deliver", ActivityKind.Producer, parent);
        if (activity is null) return null;
        Activity.Current = previous;
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("keyproxy.edge.id", edgeId);
            activity.SetTag("keyproxy.session.id", session.ToString());
            activity.SetTag("keyproxy.key_transfer.kind", kind switch
            {
                KeyTransferKind.SaInstall => "sa_install",
                KeyTransferKind.SaDelete => "sa_delete",
                KeyTransferKind.ProxyFailure => "proxy_failure",
                _ => "unknown",
            });
        }
        return activity;
    }

    /// <summary>Ends a delivery span: <c>delivered</c>, or <c>not_attached</c> (the tunnel is gone).</summary>
    internal static void KeyTransferDelivered(Activity? span, bool delivered)
    {
        if (span is null) return;
        var previous = Activity.Current;
        span.SetTag("keyproxy.key_transfer.result", delivered ? "delivered" : "not_attached");
        if (!delivered) span.SetStatus(ActivityStatusCode.Error, "not_attached");
        span.Stop();
        Activity.Current = previous;
    }
}
