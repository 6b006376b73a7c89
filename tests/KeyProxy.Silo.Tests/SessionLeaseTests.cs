using KeyProxy.Grains;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Which of a handset's proxy sessions an INITIAL_CONTACT (RFC 7296 2.4) makes stale (issue 15). Found by the storage
/// outage fault test: an old session's install, sealed late, closed the newer session the peer actually held.
/// </summary>
public sealed class SessionLeaseTests
{
    private const string Peer = "127.0.89.2", Other = "127.0.89.3", Identity = "alice@keyproxy.test";

    [Fact]
    public void Sessions_with_the_peer_that_started_earlier_are_stale_later_ones_and_other_peers_are_not()
    {
        var (restored, first, second, third, elsewhere) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var sessions = new Dictionary<Guid, SessionLease>
        {
            [restored] = new(1, 0) { Peer = Peer },
            [first] = new(1, 1) { Peer = Peer },
            [second] = new(1, 2) { Peer = Peer },
            [third] = new(1, 3) { Peer = Peer },
            [elsewhere] = new(1, 4) { Peer = Other },
        };

        Assert.Equal(new[] { restored, first }.Order(), SessionLease.MarkInitialContact(sessions, second, Peer, Identity).Order());
        Assert.Equal(Identity, sessions[second].InitialContactFrom);
        // The first session's INITIAL_CONTACT, sealed after the second's: it ends nothing newer than itself.
        Assert.Equal([restored], SessionLease.MarkInitialContact(sessions, first, Peer, Identity));
        Assert.Equal(new[] { restored, first, second }.Order(), SessionLease.MarkInitialContact(sessions, third, Peer, Identity).Order());
    }

    [Fact]
    public void A_session_whose_start_this_activation_did_not_see_ends_nothing_and_is_itself_stale_once_a_newer_one_came_with_initial_contact()
    {
        var (relisted, begun) = (Guid.NewGuid(), Guid.NewGuid());
        var sessions = new Dictionary<Guid, SessionLease> { [relisted] = new(1, 0) { Peer = Peer } };
        Assert.Empty(SessionLease.MarkInitialContact(sessions, relisted, Peer, Identity));
        Assert.Null(sessions[relisted].InitialContactFrom);
        Assert.Null(SessionLease.InitialContactSince(sessions, relisted, Peer));

        sessions[begun] = new SessionLease(1, 1) { Peer = Peer };
        Assert.Null(SessionLease.InitialContactSince(sessions, relisted, Peer)); // the newer one did not assert it
        SessionLease.MarkInitialContact(sessions, begun, Peer, Identity);
        Assert.Equal(Identity, SessionLease.InitialContactSince(sessions, relisted, Peer));
        Assert.Null(SessionLease.InitialContactSince(sessions, relisted, Other));
    }

    [Fact]
    public void A_sealed_delete_s_SPIs_stay_among_those_to_delete_should_the_session_be_gone_the_last_eight()
    {
        // Issue 15: a delete sealed for a session may be lost on its way; the audit deletes those SPIs again if the session dies.
        var lease = new SessionLease(1, 1) { Peer = Peer };
        lease.InboundSpis.UnionWith([0x100u, 0x101u]);
        lease.Deleted([0x100u, 0x999u]); // 0x999 was never listed: nothing to remember
        Assert.Equal([0x101u], lease.InboundSpis);
        Assert.Equal([0x100u, 0x101u], lease.SpisToDelete().Order());

        for (uint spi = 0x200; spi < 0x20a; spi++)
        {
            lease.InboundSpis.Add(spi);
            lease.Deleted([spi]);
        }
        Assert.Equal(8, lease.RecentlyDeleted.Count);
        Assert.Equal(Enumerable.Range(0x202, 8).Select(i => (uint)i), lease.RecentlyDeleted);
        Assert.Equal(9, lease.SpisToDelete().Length);
    }
}
