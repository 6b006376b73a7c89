using System.Collections.Concurrent;
using KeyProxy.Wire.Ip;

namespace KeyProxy.Edge.Routing;

/// <summary>
/// Which proxy session owns an IKE SA seen on a handset's network side: (handset address, IKE
/// initiator SPI) to session id. The initiator SPI is in every IKE header of an SA (RFC 7296 3.1)
/// and the handset address tells the handsets apart, so one lookup routes any IKE message. An IKE
/// SA rekey brings a new initiator SPI: the session adds it, and removes all of its routes when it ends.
/// </summary>
public sealed class IkeRouteTable
{
    private readonly ConcurrentDictionary<IkeRouteKey, Guid> _routes = new();
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<IkeRouteKey, byte>> _bySession = new();

    // The routes on each handset's address, so that a detach costs that handset's routes, not the table's
    // (a scan of every route per detach made detaching a whole edge quadratic). The entry goes at detach.
    private readonly ConcurrentDictionary<IpAddressValue, ConcurrentDictionary<IkeRouteKey, byte>> _byHandset = new();

    public int Count => _routes.Count;

    public bool TryGet(in IpAddressValue handset, ulong initiatorSpi, out Guid session) =>
        _routes.TryGetValue(new IkeRouteKey(handset, initiatorSpi), out session);

    /// <summary>Adds a route; false when the key already routes to another session (SPI collision or a hijack attempt).</summary>
    public bool TryAdd(in IpAddressValue handset, ulong initiatorSpi, Guid session)
    {
        var key = new IkeRouteKey(handset, initiatorSpi);
        if (!_routes.TryAdd(key, session))
            return _routes.TryGetValue(key, out var existing) && existing == session;
        _bySession.GetOrAdd(session, static _ => Small())[key] = 0;
        _byHandset.GetOrAdd(handset, static _ => Small())[key] = 0;
        return true;
    }

    // A session or a handset has one or two routes (an IKE SA, and its rekey for a while): sized for that, not for the
    // default 31 buckets and a lock per core, which were about 1 KiB per proxied SA (docs/PERFORMANCE.md).
    private static ConcurrentDictionary<IkeRouteKey, byte> Small() => new(concurrencyLevel: 1, capacity: 2);

    /// <summary>Whether the session still routes an IKE SA here (it removes its routes when its IKE SA ends).</summary>
    public bool HasSession(Guid session) => _bySession.ContainsKey(session);

    /// <summary>Removes every route of a session (its IKE SA ended); returns how many.</summary>
    public int RemoveSession(Guid session)
    {
        if (!_bySession.TryRemove(session, out var keys)) return 0;
        int n = 0;
        foreach (var key in keys.Keys)
        {
            if (_routes.TryRemove(new KeyValuePair<IkeRouteKey, Guid>(key, session))) n++;
            if (_byHandset.TryGetValue(key.Handset, out var ofHandset)) ofHandset.TryRemove(key, out _);
        }
        return n;
    }

    /// <summary>The sessions with routes on one handset's address (for detach, not for packets).</summary>
    public List<Guid> SessionsOf(in IpAddressValue handset)
    {
        var sessions = new List<Guid>();
        if (!_byHandset.TryGetValue(handset, out var keys)) return sessions;
        foreach (var key in keys.Keys)
            if (_routes.TryGetValue(key, out var session) && !sessions.Contains(session)) sessions.Add(session);
        return sessions;
    }

    /// <summary>Removes every route of one handset (it detached); returns the sessions that had routes.</summary>
    public List<Guid> RemoveHandset(in IpAddressValue handset)
    {
        var sessions = new List<Guid>();
        if (!_byHandset.TryRemove(handset, out var keys)) return sessions;
        foreach (var key in keys.Keys)
            if (_routes.TryRemove(key, out var session) && !sessions.Contains(session)) sessions.Add(session);
        foreach (var s in sessions) _bySession.TryRemove(s, out _);
        return sessions;
    }
}

/// <summary>A route key: the handset's address and the IKE SA's initiator SPI.</summary>
public readonly record struct IkeRouteKey(IpAddressValue Handset, ulong InitiatorSpi);
