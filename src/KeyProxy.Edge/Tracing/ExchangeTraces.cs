using System.Collections.Concurrent;
using System.Diagnostics;
using KeyProxy.Ike.Messages;

namespace KeyProxy.Edge.Tracing;

/// <summary>
/// Which trace a proxy session's exchange belongs to (issue 20 item 3: one proxied exchange is one trace): the span that
/// began it at this edge (the handset's proxy request, or the peer's first IKE_SA_INIT), by session. The peer's later
/// datagrams of the same exchange (its IKE_SA_INIT response, IKE_AUTH) arrive on a socket with no context of their own;
/// the edge parents their spans here. Kept only while tracing listens, until the session removes its routes or
/// <see cref="Window"/> passes. Once the session's IKE SA is up (<see cref="Established"/>) only the exchanges that set
/// it up still join: a peer retransmits its IKE_AUTH request when the response was slow or lost (RFC 7296 2.1), and that
/// retransmission belongs to the same exchange, while a rekey or liveness check is a trace of its own.
/// </summary>
internal sealed class ExchangeTraces(TimeSpan window)
{
    /// <summary>Beyond this many sessions remembered, the stale ones are swept (bounded memory under a flood).</summary>
    private const int SweepAbove = 65_536;

    private readonly ConcurrentDictionary<Guid, Entry> _bySession = new();

    public TimeSpan Window { get; } = window;

    public int Count => _bySession.Count;

    public void Remember(Guid session, ActivityContext context)
    {
        if (_bySession.Count >= SweepAbove) Sweep();
        _bySession[session] = new Entry(context, Stopwatch.GetTimestamp(), Established: false);
    }

    /// <summary>The session's IKE SA is established: from now on only retransmissions of its set-up exchanges join the trace.</summary>
    public void Established(Guid session)
    {
        if (_bySession.TryGetValue(session, out var entry)) _bySession.TryUpdate(session, entry with { Established = true }, entry);
    }

    /// <summary>
    /// The context of the exchange a datagram of type <paramref name="exchange"/> for <paramref name="session"/> belongs
    /// to, or default (a new trace): when none is remembered, it is older than the window, or the IKE SA is established
    /// and <paramref name="exchange"/> is not one that sets an IKE SA up.
    /// </summary>
    public ActivityContext Of(Guid session, ExchangeType exchange)
    {
        if (!_bySession.TryGetValue(session, out var entry)) return default;
        if (Stopwatch.GetElapsedTime(entry.Since) > Window)
        {
            _bySession.TryRemove(session, out _);
            return default;
        }
        return !entry.Established || SetsUpIkeSa(exchange) ? entry.Context : default;
    }

    /// <summary>The context of the exchange a handset's retransmitted proxy request began (the request asks for the set-up).</summary>
    public ActivityContext OfProxyRequest(Guid session) => Of(session, ExchangeType.IkeSaInit);

    public void Forget(Guid session)
    {
        if (!_bySession.IsEmpty) _bySession.TryRemove(session, out _);
    }

    /// <summary>RFC 7296 1.2 and RFC 9242: the exchanges that make an IKE SA; everything later is its own trace.</summary>
    private static bool SetsUpIkeSa(ExchangeType exchange) =>
        exchange is ExchangeType.IkeSaInit or ExchangeType.IkeIntermediate or ExchangeType.IkeAuth;

    private void Sweep()
    {
        foreach (var (session, entry) in _bySession)
            if (Stopwatch.GetElapsedTime(entry.Since) > Window) _bySession.TryRemove(session, out _);
    }

    private readonly record struct Entry(ActivityContext Context, long Since, bool Established);
}
