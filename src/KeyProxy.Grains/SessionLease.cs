namespace KeyProxy.Grains;

/// <summary>
/// What a subscriber grain knows of one of its handset's proxy sessions (the lease, issue 8): the attachment it served,
/// its peer, the handset's inbound SPIs it installed, and where it stands in the order sessions started in.
/// </summary>
internal sealed class SessionLease(uint tunnelId, long listed)
{
    public uint TunnelId { get; } = tunnelId;

    /// <summary>
    /// The session's place among those that started while the subscriber's activation lived, a lower number starting
    /// earlier; 0 for one that started before it (restored from storage, listed again by its renewal, or known by a
    /// key transfer), which is older than every numbered one.
    /// </summary>
    public long Listed { get; } = listed;

    public string? Peer { get; set; }

    public HashSet<uint> InboundSpis { get; } = [];

    /// <summary>
    /// The SPIs of the last few deletes this subscriber sealed for the session (issue 15): a sealed delete may still be
    /// lost on its way (the session's call timed out, or its edge call failed), and a session that then ends without a
    /// word is found dead by the audit, which deletes these again with the rest (an SPI the handset no longer holds is
    /// ignored there). Bounded: a long-lived session's rekeys do not grow it.
    /// </summary>
    public List<uint> RecentlyDeleted { get; } = [];

    private const int RecentlyDeletedKept = 8;

    /// <summary>The SAs a delete sealed for this session removes: no longer listed as installed, kept among the recent deletes.</summary>
    public void Deleted(IEnumerable<uint> spis)
    {
        foreach (var spi in spis)
        {
            if (!InboundSpis.Remove(spi) || RecentlyDeleted.Contains(spi)) continue;
            if (RecentlyDeleted.Count == RecentlyDeletedKept) RecentlyDeleted.RemoveAt(0);
            RecentlyDeleted.Add(spi);
        }
    }

    /// <summary>Every SPI a delete at the handset should name should the session be gone: those installed and the recent deletes.</summary>
    public uint[] SpisToDelete()
    {
        var all = new HashSet<uint>(InboundSpis);
        all.UnionWith(RecentlyDeleted);
        return [.. all];
    }

    /// <summary>The audit found the session dead and owes the handset its SAs' delete (kept listed until that is stored).</summary>
    public bool Owed { get; set; }

    /// <summary>The peer identity that asserted INITIAL_CONTACT for this session's IKE SA (RFC 7296 2.4), if it did.</summary>
    public string? InitialContactFrom { get; set; }

    /// <summary>
    /// <paramref name="session"/>'s IKE SA with <paramref name="peer"/> came with INITIAL_CONTACT from
    /// <paramref name="peerIdentity"/>: records it, and returns the sessions with that peer that started before it,
    /// which the peer no longer holds. Only sessions that started earlier: installs are sealed in no particular order
    /// (with storage down they wait), and an older session's late INITIAL_CONTACT must not end the newer one the peer
    /// holds. Nothing for a session whose start this activation did not see (its order is unknown): the renewal of an
    /// older one checks it against <see cref="InitialContactSince"/> instead.
    /// </summary>
    public static List<Guid> MarkInitialContact(Dictionary<Guid, SessionLease> sessions, Guid session, string peer, string peerIdentity)
    {
        var stale = new List<Guid>();
        if (!sessions.TryGetValue(session, out var newer) || newer.Listed == 0) return stale;
        newer.InitialContactFrom = peerIdentity;
        foreach (var (id, lease) in sessions)
            if (lease.Listed < newer.Listed && lease.Peer == peer) stale.Add(id);
        return stale;
    }

    /// <summary>
    /// For <paramref name="session"/>, listed again by its renewal (so started before every numbered session): the peer
    /// identity of a numbered session with <paramref name="peer"/> that came with INITIAL_CONTACT, which makes it stale.
    /// </summary>
    public static string? InitialContactSince(Dictionary<Guid, SessionLease> sessions, Guid session, string peer)
    {
        foreach (var (id, other) in sessions)
            if (id != session && other.Listed > 0 && other.Peer == peer && other.InitialContactFrom is { } identity) return identity;
        return null;
    }
}
