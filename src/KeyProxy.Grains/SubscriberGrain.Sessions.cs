using KeyProxy.Abstractions;
using KeyProxy.Wire.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Grains;

/// <summary>
/// The subscriber's side of the leases between it and its proxy sessions (issue 8, "no SA left on one side only").
/// The grain lists its handset's live sessions with the inbound SPIs each installed at the handset. Every
/// <see cref="ProxyNetworkOptions.SessionAuditInterval"/> it asks each session whether it still holds SAs for this
/// handset; a session whose silo died answers from a fresh activation that it does not, and the grain then owes the
/// handset an SA delete for that session's SPIs.
/// </summary>
/// <remarks>
/// <para>
/// Issue 15, write before deliver. The list is kept in a durable record of its own (<see cref="SubscriberSessionsState"/>,
/// the row "sessions" beside the profile's), and no SA reaches the handset before its inbound SPI is in that record:
/// <see cref="BeginSession"/> writes the new session with the SPI its first CHILD_SA will have before it hands out the
/// grant with which the session seals that install itself, and <see cref="SealKeyTransfer"/> writes any other install's
/// SPI before it seals it. With the record goes the reminder (<see cref="PendingDeletesReminder"/>, durable with
/// Reminders.AzureStorage), held while the record lists sessions: when this grain and a session of its handset die
/// together (one killed silo held both), the reminder brings the grain back on a live silo, the new activation reads the
/// record, its audit finds the session gone and deletes that session's SAs at the handset. Before, the list was in memory
/// and stored only when the runtime deactivated the grain, so such a double death left the SAs until their lifetime ended.
/// One exception keeps the exchange path free of storage in the usual placement: while this activation runs on the silo of
/// the handset's edge (where the attach moves it, claim 9), the record is written only when the runtime deactivates the
/// grain (<see cref="RecordRequired"/>): a death of that silo takes the handset's tunnel too, and the handset drops every
/// SA when it attaches again.
/// </para>
/// <para>
/// Why here and not a row per session: the subscriber is already the one grain every session calls at its start
/// (BeginSession), so the record costs one storage write there and no grain call; a row written by each session would
/// need a durable per-subscriber listing to be found after a double death, which is this record again. Writes are group
/// commits (BeginSession interleaves): sessions starting together share one. A session's end leaves the record at the
/// next write (an audit tick writes it when something ended): until then a delete of its SPIs would be harmless, the
/// handset ignores SPIs it does not hold. A write that fails (storage down) withholds the grant: the install is then
/// sealed here, after the record is written, and is not delivered while it cannot be.
/// </para>
/// <para>
/// Timers and silos (issue 14). The audit is a grain timer: it needs the list, which an activation loads from the record.
/// What the audit owes once a session is found dead (an SA delete the handset's edge did not take yet) is persisted too
/// (<see cref="SubscriberState.PendingSaDeletes"/>, written only on that failure path) under the same reminder.
/// </para>
/// </remarks>
public sealed partial class SubscriberGrain : IRemindable
{
    /// <summary>The reminder held while the session record lists sessions or <see cref="SubscriberState.PendingSaDeletes"/> is not empty.</summary>
    internal const string PendingDeletesReminder = "pending-sa-deletes";

    /// <summary>A probe of one session that takes longer than this counts as no answer (its silo may be dying); asked again next time.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<Guid, SessionLease> _sessions = [];

    private IGrainTimer? _audit;

    /// <summary><see cref="SubscriberState.PendingSaDeletes"/> changed since it was last written.</summary>
    private bool _pendingUnsaved;

    /// <summary>Whether <see cref="PendingDeletesReminder"/> is (believed) registered; a reminder tick proves it.</summary>
    private bool _reminderHeld;

    /// <summary>Registrations and removals of the reminder, one after the other (BeginSession interleaves with the audit).</summary>
    private Task _reminderSync = Task.CompletedTask;

    /// <summary>How many sessions started while this activation lived (<see cref="BeginSession"/>): their order.</summary>
    private long _listings;

    /// <summary>Changes to <see cref="_sessions"/> so far, and how many of them the session record holds (its last write).</summary>
    private long _recordVersion, _recordDurable;

    /// <summary>Sessions that left the list since the record was last written: not taken back from a record another activation wrote.</summary>
    private readonly HashSet<Guid> _endedUnwritten = [];

    /// <summary>The record's write in flight, and the one queued behind it (carrying every change made meanwhile).</summary>
    private Task? _recordWrite, _recordNext;

    /// <summary>Takes over the sessions of the record (an earlier activation's, whatever ended it), and audits them.</summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        int restored = 0;
        foreach (var l in SessionRecord.State.Sessions)
            if (Restore(l)) restored++;
        // Rows written before the record existed: the list stored at a runtime deactivation. Taken over the same way,
        // into the record at its next write; cleared in memory, and in the profile's row at its next write.
        var legacy = State.State.ListedSessions;
        foreach (var l in legacy)
            if (Restore(l)) restored++;
        if (legacy.Count > 0)
        {
            State.State.ListedSessions = [];
            _recordVersion++;
        }
        if (restored == 0) return Task.CompletedTask;
        LogSessionsRestored(Nai, restored);
        EnsureAudit();
        return Task.CompletedTask;
    }

    private bool Restore(ListedSession l)
    {
        if (_sessions.TryGetValue(l.Session, out var known))
        {
            known.InboundSpis.UnionWith(l.InboundSpis);
            return false;
        }
        var lease = new SessionLease(l.TunnelId, 0) { Peer = l.Peer };
        lease.InboundSpis.UnionWith(l.InboundSpis);
        _sessions[l.Session] = lease;
        return true;
    }

    /// <summary>
    /// The runtime ends this activation on a live silo (a silo that held its grain directory entry died, shutdown,
    /// migration): the record is written with the list as it is (sessions begun on the handset's edge silo were not
    /// written yet, see <see cref="RecordRequired"/>; those that ended leave it), and the reminder is held, so the next
    /// activation audits them wherever it runs. The same when this activation makes way after a refused write
    /// (<see cref="MakeWay"/>): the record is a row of its own, and on the handset's edge silo it holds sessions only once
    /// written here. Not for any other explicit DeactivateOnIdle, which the tests use to stand for a silo's death
    /// (nothing is written then, as a killed silo writes nothing).
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _audit?.Dispose();
        _audit = null;
        if (reason.ReasonCode == DeactivationReasonCode.ApplicationRequested && !_makingWay || !RecordBehind && (_reminderHeld || !ReminderNeeded)) return;
        try
        {
            if (RecordBehind) await PersistRecordAsync().WaitAsync(cancellationToken);
            // Migration re-activates the grain at once with this state; otherwise the reminder brings it back to audit the record.
            if (reason.ReasonCode != DeactivationReasonCode.Migrating) await SyncReminderAsync().WaitAsync(cancellationToken);
            LogSessionsStored(Nai, _sessions.Count, reason.ReasonCode);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Harmless: the record lists sessions that ended, whose SPIs a later audit may delete again for nothing.
            LogSessionsNotStored(Nai, _sessions.Count, e.Message);
        }
    }

    /// <summary>The list changed since the record was last written.</summary>
    private bool RecordBehind => _recordDurable != _recordVersion || _endedUnwritten.Count > 0;

    /// <summary>
    /// Whether the record must be written before an install leaves (and the reminder held): not while this activation
    /// runs on the silo of the handset's edge, as it does after the attach (claim 9). A death of that silo that takes
    /// this activation without a word takes the handset's tunnel with it, and a handset attaching again drops every SA
    /// it had (the runtime's deactivations of this grain on a live silo write the record on the way out). Anywhere else
    /// (the migration failed, or a call from another silo activated it there after a deactivation) a silo death could
    /// take this grain and a session while the handset stays attached with their SA: then the record is written first.
    /// So the exchange path writes nothing in the usual placement (issue 15: measured in PERFORMANCE.md).
    /// </summary>
    private bool RecordRequired =>
        State.State.Attachment is not { } attachment || attachment.EdgeId != (_siloName ??= ServiceProvider.GetRequiredService<ILocalSiloDetails>().Name);

    private string? _siloName;

    /// <summary>Takes <paramref name="session"/> off the list (it ended, or was found dead and its SAs owed).</summary>
    private void Unlist(Guid session)
    {
        if (!_sessions.Remove(session)) return;
        _endedUnwritten.Add(session);
        _recordVersion++;
    }

    /// <summary>Writes the session record with every change made so far (group commit); throws when storage refuses.</summary>
    private Task PersistRecordAsync()
    {
        if (_recordNext is not null) return _recordNext;
        if (_recordWrite is null || _recordWrite.IsCompleted) return _recordWrite = WriteRecordAsync();
        return _recordNext = WriteRecordAfterAsync(_recordWrite);
    }

    private async Task WriteRecordAfterAsync(Task previous)
    {
        try { await previous; }
        catch (Exception) { /* its callers see that failure; this write carries its changes again */ }
        _recordNext = null;
        await (_recordWrite = WriteRecordAsync());
    }

    private async Task WriteRecordAsync()
    {
        for (int attempt = 1; ; attempt++)
        {
            long version = _recordVersion;
            var ended = _endedUnwritten.ToArray();
            var listed = new List<ListedSession>(_sessions.Count);
            foreach (var (id, lease) in _sessions) listed.Add(new ListedSession(id, lease.TunnelId, lease.Peer, lease.SpisToDelete()));
            SessionRecord.State.Sessions = listed;
            try
            {
                await SessionRecord.WriteStateAsync();
                if (version > _recordDurable) _recordDurable = version;
                foreach (var id in ended) _endedUnwritten.Remove(id);
                return;
            }
            catch (Orleans.Storage.InconsistentStateException) when (attempt < 3)
            {
                // Another activation of this subscriber wrote the record: Orleans may hold two for a moment while its grain
                // directory heals after a silo's death. Its sessions are taken over (the audit asks them), then written again.
                await SessionRecord.ReadStateAsync();
                int adopted = 0;
                foreach (var l in SessionRecord.State.Sessions)
                {
                    if (!_endedUnwritten.Contains(l.Session) && Restore(l)) adopted++;
                }
                if (adopted > 0)
                {
                    _recordVersion++;
                    LogSessionsAdopted(Nai, adopted);
                    EnsureAudit();
                }
            }
        }
    }

    /// <summary>
    /// What BeginSession and SealKeyTransfer do before an install can reach the handset: the record written with every
    /// change so far, and the reminder held that brings this grain back to audit it. False (logged) when storage or the
    /// reminder table refused.
    /// </summary>
    private async Task<bool> RecordDurablyAsync()
    {
        try
        {
            var write = RecordBehind ? PersistRecordAsync() : Task.CompletedTask;
            await Task.WhenAll(write, SyncReminderAsync());
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogRecordNotWritten(Nai, _sessions.Count, e.Message);
            return false;
        }
    }

    /// <summary>
    /// Whether <see cref="PendingDeletesReminder"/> is needed: sessions listed away from the handset's edge silo
    /// (<see cref="RecordRequired"/>), sessions in the stored record, or deletes owed.
    /// </summary>
    private bool ReminderNeeded =>
        RecordRequired && _sessions.Count > 0 || SessionRecord.State.Sessions.Count > 0 || State.State.PendingSaDeletes.Count > 0;

    /// <summary>Registers or removes the reminder as <see cref="ReminderNeeded"/> says, after any such change in flight.</summary>
    private Task SyncReminderAsync()
    {
        if (_reminderSync.IsCompleted && _reminderHeld == ReminderNeeded) return Task.CompletedTask;
        return _reminderSync = SyncReminderAfterAsync(_reminderSync);
    }

    private async Task SyncReminderAfterAsync(Task previous)
    {
        try { await previous; }
        catch (Exception) { /* its caller saw it; this one decides again */ }
        if (ReminderNeeded && !_reminderHeld)
        {
            var due = SessionAuditInterval is { } every && every > TimeSpan.Zero && every < PendingDeleteRetry ? every : PendingDeleteRetry;
            await this.RegisterOrUpdateReminder(PendingDeletesReminder, due, PendingDeleteRetry);
            _reminderHeld = true;
        }
        else if (!ReminderNeeded && _reminderHeld)
        {
            if (await this.GetReminder(PendingDeletesReminder) is { } reminder) await this.UnregisterReminder(reminder);
            _reminderHeld = false;
        }
    }

    /// <summary>
    /// A proxy session of this subscriber with <paramref name="peer"/> started (<see cref="BeginSession"/>): detach closes
    /// it, the audit checks it. True when no other session with that peer is listed: the handset's first contact with
    /// it, as far as the network knows (RFC 7296 2.4, INITIAL_CONTACT).
    /// </summary>
    private bool ListSession(Guid session, string peer)
    {
        _sessions.Remove(session, out var earlier);
        bool firstContact = true;
        foreach (var other in _sessions.Values)
        {
            if (other.Peer == peer)
            {
                firstContact = false;
                break;
            }
        }
        if (earlier is not null && earlier.InboundSpis.Count + earlier.RecentlyDeleted.Count > 0)
        {
            // The same key starting again: the earlier activation died with its silo and the handset's retried
            // request re-created it. What the earlier one installed has nobody left to delete it: listed under a key no
            // session has, which the audit finds dead, so its SAs are owed to the handset (and stay in the record until).
            var orphan = new SessionLease(earlier.TunnelId, 0) { Peer = earlier.Peer };
            orphan.InboundSpis.UnionWith(earlier.SpisToDelete());
            _sessions[Guid.NewGuid()] = orphan;
        }
        if (State.State.Attachment is { } attachment) _sessions[session] = new SessionLease(attachment.TunnelId, ++_listings) { Peer = peer };
        _recordVersion++;
        EnsureAudit();
        return firstContact;
    }

    /// <summary>
    /// The IKE SA of <paramref name="session"/> with <paramref name="peer"/> came with INITIAL_CONTACT (RFC 7296 2.4): the
    /// peer, as <paramref name="peerIdentity"/>, held no other IKE SA with this handset when it started this one. Any
    /// session with that peer listed before it is then a half whose other side died mid-exchange (issue 15: the
    /// initiator's silo killed after this handset's responder installed its SA, the retried exchange then ran on a new
    /// session): each is asked to close, which deletes its SAs at the handset. Only those listed before: installs are
    /// sealed in no particular order (storage down, they wait), and an older session's late INITIAL_CONTACT must not
    /// close the newer one the peer actually holds. One-way calls: the sessions seal those deletes through this grain.
    /// </summary>
    private void SupersedeOlderSessions(Guid session, string peer, string peerIdentity)
    {
        foreach (var id in SessionLease.MarkInitialContact(_sessions, session, peer, peerIdentity))
        {
            LogSessionSuperseded(Nai, id, peer);
            _ = GrainFactory.GetGrain<IProxySessionGrain>(id).SupersededByInitialContact(peerIdentity);
        }
    }

    public Task SessionEnded(Guid session)
    {
        Unlist(session);
        return Task.CompletedTask;
    }

    public Task<bool> RenewSession(Guid session, string edgeId, uint tunnelId, string peerAddress, uint[] inboundSpis)
    {
        var attachment = State.State.Attachment;
        if (attachment is null || attachment.EdgeId != edgeId || attachment.TunnelId != tunnelId)
        {
            Unlist(session);
            return Task.FromResult(false);
        }
        if (!_sessions.TryGetValue(session, out var lease))
        {
            // Listed again after this grain's reactivation (or a renewal that crossed the session's start).
            _sessions[session] = lease = new SessionLease(tunnelId, 0);
            _recordVersion++;
            LogSessionRelisted(Nai, session, inboundSpis.Length);
            // Listed again after this grain lost its list, it started before any session that started since; one of
            // those with the same peer that came with INITIAL_CONTACT makes it stale (this grain was not there to be told).
            if (SessionLease.InitialContactSince(_sessions, session, peerAddress) is { } identity)
            {
                LogSessionSuperseded(Nai, session, peerAddress);
                _ = GrainFactory.GetGrain<IProxySessionGrain>(session).SupersededByInitialContact(identity);
            }
        }
        lease.Peer ??= peerAddress;
        // A union: a renewal may cross a key transfer sealed meanwhile, and deletes come through SealKeyTransfer. What it
        // adds (the session was listed again, the record's write failed) goes into the record with the next audit's write.
        foreach (var spi in inboundSpis)
            if (lease.InboundSpis.Add(spi)) _recordVersion++;
        EnsureAudit();
        return Task.FromResult(true);
    }

    /// <summary>
    /// Records what a key transfer about to be sealed installs or deletes at the handset on behalf of
    /// <paramref name="session"/>; true when that changed the list (an install the record does not hold yet).
    /// </summary>
    private bool Track(Guid session, uint tunnelId, KeyTransferContent content)
    {
        if (content is not (SaInstall or SaDelete)) return false;
        bool changed = false;
        if (!_sessions.TryGetValue(session, out var lease))
        {
            _sessions[session] = lease = new SessionLease(tunnelId, 0);
            changed = true;
            EnsureAudit();
        }
        switch (content)
        {
            case SaInstall install:
                changed |= lease.InboundSpis.Add(install.Sa.InboundSpi);
                var peer = install.Sa.PeerAddress.ToString();
                changed |= lease.Peer != peer;
                lease.Peer = peer;
                break;
            case SaDelete delete:
                lease.Deleted(delete.InboundSpis);
                break;
        }
        if (changed) _recordVersion++;
        return changed;
    }

    private void EnsureAudit()
    {
        if (_audit is not null || SessionAuditInterval is not { } every || every <= TimeSpan.Zero) return;
        // Keeps this grain alive while it has sessions: its list is what the audit needs. Not interleaved: the
        // deletes it seals take key transfer counters like any other; the sessions answer probes interleaved.
        _audit = this.RegisterGrainTimer(AuditSessionsAsync, new GrainTimerCreationOptions(every, every) { KeepAlive = true });
    }

    /// <summary>Asks every listed session whether it still lives; deletes at the handset the SAs of those that do not.</summary>
    private async Task AuditSessionsAsync(CancellationToken ct)
    {
        if (_sessions.Count == 0 && State.State.PendingSaDeletes.Count == 0)
        {
            _audit?.Dispose();
            _audit = null;
            await TryPersistRecordAsync();
            await SettlePendingDeletesAsync();
            return;
        }
        var ids = new Guid[_sessions.Count];
        var probed = new SessionLease[ids.Length];
        int n = 0;
        foreach (var (id, lease) in _sessions) (ids[n], probed[n++]) = (id, lease);
        var probes = new Task<bool?>[ids.Length];
        for (int i = 0; i < ids.Length; i++) probes[i] = ProbeAsync(ids[i]);
        var alive = await Task.WhenAll(probes);
        List<(Guid Id, SessionLease Lease)>? dead = null;
        for (int i = 0; i < ids.Length; i++)
        {
            // Only the listing that was probed (issue 15, the core kill -9 test): a session whose activation died and that
            // the handset's retried request began again meanwhile (BeginSession, interleaved with this audit) is listed
            // anew, and a "no" about the dead one must not take the new one off the list or its routes off the edge.
            if (alive[i] == false && _sessions.TryGetValue(ids[i], out var lease) && ReferenceEquals(lease, probed[i]) && !lease.Owed)
            {
                LogSessionGone(Nai, ids[i], lease.InboundSpis.Count);
                Owe(lease);
                lease.Owed = true;
                (dead ??= []).Add((ids[i], lease));
            }
        }
        if (dead is not null)
        {
            // The owed deletes are stored before the record forgets those sessions: a silo death in between loses neither.
            await KeepDurableAsync(State.State.PendingSaDeletes);
            foreach (var (id, lease) in dead)
            {
                // Begun again meanwhile (see above): its routes are the new activation's.
                if (!_sessions.TryGetValue(id, out var still) || !ReferenceEquals(still, lease)) continue;
                if (!_pendingUnsaved) Unlist(id);
                await RemoveRoutesAsync(id);
            }
        }
        await SettlePendingDeletesAsync();
        await TryPersistRecordAsync();
    }

    /// <summary>
    /// The record's write when it is behind (sessions ended, or listed again by their renewal), and the reminder as the
    /// record needs it; best effort: the next audit tries again.
    /// </summary>
    private async Task TryPersistRecordAsync()
    {
        // Written at deactivation only (see RecordRequired), unless the stored record lists sessions still to be cleared.
        if (!RecordRequired && SessionRecord.State.Sessions.Count == 0) return;
        try
        {
            if (RecordBehind) await PersistRecordAsync();
            await SyncReminderAsync();
        }
        catch (Exception e) when (e is not OutOfMemoryException) { LogRecordNotWritten(Nai, _sessions.Count, e.Message); }
    }

    /// <summary>Records the SA delete owed for a dead session's SPIs (nothing when it installed none).</summary>
    private void Owe(SessionLease dead)
    {
        if (dead.InboundSpis.Count + dead.RecentlyDeleted.Count == 0 || dead.Peer is null) return;
        State.State.PendingSaDeletes.Add(new PendingSaDelete(dead.TunnelId, dead.Peer, dead.SpisToDelete()));
        _pendingUnsaved = true;
    }

    /// <summary>
    /// The reminder's tick, on whichever silo this grain now lives: the activation it woke (after a silo death) took the
    /// record's sessions over and audits them; the pending deletes are tried again; the reminder goes once nothing needs it.
    /// </summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != PendingDeletesReminder) return;
        _reminderHeld = true;
        if (_sessions.Count > 0) EnsureAudit();
        await SettlePendingDeletesAsync();
    }

    /// <summary>
    /// Persists new pending deletes under the reminder first (so a silo death from here on loses none), then delivers
    /// what it can, then writes what is left and drops the reminder once nothing is. A storage or reminder failure is
    /// logged and does not hold the deliveries back (the handset needs the deletes more than the record of them);
    /// the write is tried again at the next audit or reminder tick.
    /// </summary>
    private async Task SettlePendingDeletesAsync()
    {
        var pending = State.State.PendingSaDeletes;
        if (pending.Count == 0 && !_pendingUnsaved && !_reminderHeld) return;
        await KeepDurableAsync(pending);
        foreach (var owed in pending.ToArray()) // an interleaved BeginSession may add one meanwhile
        {
            if (!await DeleteAtHandsetAsync(owed)) break; // the edge did not answer: again next time
            pending.Remove(owed);
            _pendingUnsaved = true;
        }

        await KeepDurableAsync(pending);
    }

    /// <summary>Writes the pending list when it changed; holds the reminder while anything needs it, drops it once nothing does.</summary>
    private async Task KeepDurableAsync(List<PendingSaDelete> pending)
    {
        try
        {
            if (_pendingUnsaved)
            {
                _pendingUnsaved = false;
                try { await State.WriteStateAsync(); }
                catch { _pendingUnsaved = true; throw; }
            }

            await SyncReminderAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Storage or the reminder table is unreachable (the Azure SDK's RequestFailedException among others).
            LogPendingDeletesNotSettled(Nai, pending.Count, e.Message);
            // Or another activation wrote the row (two for a moment after a silo's death): this one's state is stale and
            // every later write would fail on the ETag too (issue 15, an edge kill -9 run: a reminder-brought activation
            // failed for 14 s and refused the handset's re-attach). It makes way; the next call reads the row anew, and
            // the durable session record brings back what it audits.
            if (e is Orleans.Storage.InconsistentStateException) MakeWay();
        }
    }

    /// <summary>The dead session's IKE routes at the handset's edge, which nobody else would remove while the handset stays attached.</summary>
    private async Task RemoveRoutesAsync(Guid session)
    {
        if (State.State.Attachment is not { } attachment) return;
        try { await GrainFactory.GetGrain<IEdgeGrain>(attachment.EdgeId).RemoveRoutes(session); }
        catch (Exception e) when (e is TimeoutException or OrleansException or InvalidOperationException) { LogOrphanDeleteFailed(Nai, e.Message); }
    }

    private async Task<bool?> ProbeAsync(Guid session)
    {
        try
        {
            return await GrainFactory.GetGrain<IProxySessionGrain>(session).HoldsSasFor(Nai).WaitAsync(ProbeTimeout);
        }
        catch (Exception e) when (e is TimeoutException or OrleansException)
        {
            return null;
        }
    }

    /// <summary>
    /// The owed SA delete, sealed and delivered through the handset's edge (in messages of at most
    /// <see cref="SaDelete.MaxSpis"/> SPIs); true when done or nothing is left to do (the handset attached again
    /// since, and dropped those SAs itself).
    /// </summary>
    private async Task<bool> DeleteAtHandsetAsync(PendingSaDelete owed)
    {
        var attachment = State.State.Attachment;
        if (attachment is null || attachment.TunnelId != owed.TunnelId || State.State.DeliveryKey is null)
            return true;
        try
        {
            for (int from = 0; from < owed.InboundSpis.Length; from += SaDelete.MaxSpis)
            {
                var spis = owed.InboundSpis[from..Math.Min(owed.InboundSpis.Length, from + SaDelete.MaxSpis)];
                var sealedMessage = await SealAsync(new SaDelete(SaDeleteReason.IkeSaClosed, spis));
                GrainMetrics.KeyTransferSealed(KeyTransferKind.SaDelete);
                bool delivered = await GrainFactory.GetGrain<IEdgeGrain>(attachment.EdgeId).DeliverKeyTransfer(attachment.TunnelId, owed.Peer, sealedMessage);
                if (delivered)
                {
                    GrainMetrics.KeyTransferDelivered(KeyTransferKind.SaDelete);
                    GrainMetrics.SasDeleted(SaDeleteReason.IkeSaClosed, spis.Length);
                }
                else GrainMetrics.KeyTransferUndelivered(KeyTransferKind.SaDelete, "not_attached");
                LogOrphansDeleted(Nai, spis.Length, delivered);
            }
            return true;
        }
        catch (Exception e) when (e is TimeoutException or OrleansException or InvalidOperationException)
        {
            LogOrphanDeleteFailed(Nai, e.Message);
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: session record written at deactivation, {Count} proxy sessions listed (deactivated: {Reason})")]
    private partial void LogSessionsStored(string nai, int count, DeactivationReasonCode reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: session record not written at deactivation ({Count} proxy sessions listed): {Error}")]
    private partial void LogSessionsNotStored(string nai, int count, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: {Count} proxy sessions of the session record taken over for the audit")]
    private partial void LogSessionsRestored(string nai, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: {Count} proxy sessions of another activation's session record taken over (two activations while the grain directory healed)")]
    private partial void LogSessionsAdopted(string nai, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: session record not written ({Count} proxy sessions listed): {Error}")]
    private partial void LogRecordNotWritten(string nai, int count, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: proxy session {Session} listed again by its lease renewal ({SpiCount} SAs)")]
    private partial void LogSessionRelisted(string nai, Guid session, int spiCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: proxy session {Session} is gone (its silo died); {SpiCount} SAs it gave the handset to delete")]
    private partial void LogSessionGone(string nai, Guid session, int spiCount);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: SA delete for {SpiCount} SAs of a dead proxy session sent to the handset (delivered: {Delivered})")]
    private partial void LogOrphansDeleted(string nai, int spiCount, bool delivered);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: SA delete for a dead proxy session not sent: {Error}")]
    private partial void LogOrphanDeleteFailed(string nai, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: proxy session {Session} with {Peer} asked to close: a newer IKE SA with that peer came with INITIAL_CONTACT")]
    private partial void LogSessionSuperseded(string nai, Guid session, string peer);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: {Count} owed SA deletes not settled (storage or reminders): {Error}; again at the next tick")]
    private partial void LogPendingDeletesNotSettled(string nai, int count, string error);
}
