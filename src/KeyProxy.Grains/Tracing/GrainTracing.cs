using System.Diagnostics;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Grains.Tracing;

/// <summary>
/// The grains' spans, activity source "KeyProxy.Grains" (issue 20 item 3): the IKE exchanges a proxy session runs with
/// the peer (<see cref="IkeExchangeSpans"/>) and the key transfers it delivers to the handset. Without a listener (tracing
/// off) <see cref="ActivitySource.StartActivity(string, ActivityKind)"/> returns null and nothing else is done. Attributes
/// name exchange types, message ids, results, the session id; never a key, secret, PSK or key transfer's bytes.
/// </summary>
public static class GrainTracing
{
    public const string SourceName = "KeyProxy.Grains";

    internal static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// A span that outlives the call starting it (an IKE exchange waits for the peer's response in another grain call):
    /// a child of the current activity, which stays current, so this call's further work is not nested in it.
    /// </summary>
    internal static Activity? StartDetached(string name, ActivityKind kind)
    {
        var current = Activity.Current;
        var activity = Source.StartActivity(name, kind);
        if (activity is not null) Activity.Current = current;
        return activity;
    }

    /// <summary>Ends a span from <see cref="StartDetached"/> without making its parent current here.</summary>
    internal static void StopDetached(Activity activity)
    {
        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>A key transfer (docs/wire.md, exchange type 241) sealed and handed to the handset's edge: current while it is.</summary>
    internal static Activity? StartKeyTransfer(KeyTransferKind kind, Guid session, uint requestId)
    {
        var activity = Source.StartActivity("keyproxy.key_transfer", ActivityKind.Producer);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("keyproxy.key_transfer.kind", GrainMetrics.Snake(kind));
            activity.SetTag("keyproxy.session.id", session.ToString());
            if (requestId != 0) activity.SetTag("keyproxy.proxy.request_id", (long)requestId);
        }
        return activity;
    }

    /// <summary><paramref name="outcome"/>: <c>sealed</c> (handed to the edge), or why not (the undelivered metric's <c>error.type</c>).</summary>
    internal static void KeyTransferEnded(Activity? activity, string outcome)
    {
        if (activity is null) return;
        activity.SetTag("keyproxy.key_transfer.result", outcome);
        if (outcome != KeyTransferOutcome.Sealed) activity.SetStatus(ActivityStatusCode.Error, outcome);
    }
}
