using System.Diagnostics;
using KeyProxy.Ike.Messages;
using KeyProxy.Wire.Ip;

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
}
