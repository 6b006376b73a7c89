using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Admission;

/// <summary>
/// The responder sessions this edge started for peers' IKE_SA_INITs that have not reported their
/// IKE SA established yet: half-open SAs (RFC 7296 2.6). Above <see cref="CookieThreshold"/> a new
/// IKE_SA_INIT must return a cookie; at <see cref="MaxHalfOpen"/> for the edge, or
/// <see cref="MaxHalfOpenPerPeer"/> for one peer address, it is dropped. An entry leaves when its
/// session is established or ends, or after <see cref="Timeout"/> (a session that never reports),
/// so the table stays bounded by <see cref="MaxHalfOpen"/>. Times are caller-supplied, for tests.
/// </summary>
public sealed class HalfOpenTable(int cookieThreshold, int maxHalfOpen, int maxHalfOpenPerPeer, TimeSpan timeout)
{
    private readonly object _gate = new();
    private readonly Dictionary<Guid, Entry> _sessions = [];
    private readonly Dictionary<IpAddressValue, int> _perPeer = [];
    private DateTimeOffset _nextSweep = DateTimeOffset.MinValue;

    public int CookieThreshold { get; } = cookieThreshold;

    public int MaxHalfOpen { get; } = maxHalfOpen;

    public int MaxHalfOpenPerPeer { get; } = maxHalfOpenPerPeer;

    public TimeSpan Timeout { get; } = timeout;

    /// <summary>Half-open sessions now (expired ones included until the next sweep).</summary>
    public int Count { get { lock (_gate) return _sessions.Count; } }

    public int CountFor(in IpAddressValue peer)
    {
        lock (_gate) return _perPeer.GetValueOrDefault(peer);
    }

    /// <summary>True when a new IKE_SA_INIT must carry a valid cookie (more than <see cref="CookieThreshold"/> half-open).</summary>
    public bool CookiesRequired(DateTimeOffset now)
    {
        lock (_gate)
        {
            Sweep(now);
            return _sessions.Count >= CookieThreshold;
        }
    }

    /// <summary>
    /// Admits a new responder session for <paramref name="peer"/> and counts it as half-open, or says why not.
    /// <paramref name="validCookie"/>: the request returned a cookie this edge made (checked only when cookies are required).
    /// </summary>
    public HalfOpenDecision TryStart(Guid session, in IpAddressValue peer, bool validCookie, DateTimeOffset now)
    {
        lock (_gate)
        {
            Sweep(now);
            if (_sessions.Count >= CookieThreshold && !validCookie) return HalfOpenDecision.DemandCookie;
            if (_sessions.Count >= MaxHalfOpen) return HalfOpenDecision.OverEdgeLimit;
            int forPeer = _perPeer.GetValueOrDefault(peer);
            if (forPeer >= MaxHalfOpenPerPeer) return HalfOpenDecision.OverPeerLimit;
            if (!_sessions.TryAdd(session, new Entry(peer, now + Timeout))) return HalfOpenDecision.Start;
            _perPeer[peer] = forPeer + 1;
            return HalfOpenDecision.Start;
        }
    }

    /// <summary>The session's IKE SA is established, or the session ended: it is no longer half-open. False if it was not counted.</summary>
    public bool Forget(Guid session)
    {
        lock (_gate) return Remove(session);
    }

    private bool Remove(Guid session)
    {
        if (!_sessions.Remove(session, out var entry)) return false;
        if (_perPeer.TryGetValue(entry.Peer, out int n) && n > 1) _perPeer[entry.Peer] = n - 1;
        else _perPeer.Remove(entry.Peer);
        return true;
    }

    /// <summary>Drops entries past their deadline; at most once a second unless the table is full.</summary>
    private void Sweep(DateTimeOffset now)
    {
        if (now < _nextSweep && _sessions.Count < MaxHalfOpen) return;
        _nextSweep = now + TimeSpan.FromSeconds(1);
        List<Guid>? expired = null;
        foreach (var (id, entry) in _sessions)
            if (entry.Expires <= now) (expired ??= []).Add(id);
        if (expired is null) return;
        foreach (var id in expired) Remove(id);
    }

    private readonly record struct Entry(IpAddressValue Peer, DateTimeOffset Expires);
}
