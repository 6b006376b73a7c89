using System.Collections.Concurrent;
using System.Diagnostics;

namespace KeyProxy.Edge.Tracing;

/// <summary>
/// Which trace a proxy session's exchange belongs to (issue 20 item 3: one proxied exchange is one trace): the span that
/// began it at this edge (the handset's proxy request, or the peer's first IKE_SA_INIT), by session. The peer's later
/// datagrams of the same exchange (its IKE_SA_INIT response, IKE_AUTH) arrive on a socket with no context of their own;
/// the edge parents their spans here. Kept only while tracing listens, until the session establishes, removes its
/// routes, or <see cref="Window"/> passes (after which its exchanges, a rekey or liveness check, are traces of their own).
/// </summary>
internal sealed class ExchangeTraces(TimeSpan window)
{
    /// <summary>Beyond this many sessions remembered, the stale ones are swept (bounded memory under a flood).</summary>
    private const int SweepAbove = 65_536;

    private readonly ConcurrentDictionary<Guid, (ActivityContext Context, long Since)> _bySession = new();

    public TimeSpan Window { get; } = window;

    public int Count => _bySession.Count;

    public void Remember(Guid session, ActivityContext context)
    {
        if (_bySession.Count >= SweepAbove) Sweep();
        _bySession[session] = (context, Stopwatch.GetTimestamp());
    }

    /// <summary>The exchange's context, or default (a new trace) when none is remembered or it is older than the window.</summary>
    public ActivityContext Of(Guid session)
    {
        if (!_bySession.TryGetValue(session, out var entry)) return default;
        if (Stopwatch.GetElapsedTime(entry.Since) <= Window) return entry.Context;
        _bySession.TryRemove(session, out _);
        return default;
    }

    public void Forget(Guid session)
    {
        if (!_bySession.IsEmpty) _bySession.TryRemove(session, out _);
    }

    private void Sweep()
    {
        foreach (var (session, entry) in _bySession)
            if (Stopwatch.GetElapsedTime(entry.Since) > Window) _bySession.TryRemove(session, out _);
    }
}
