using KeyProxy.Abstractions;
using KeyProxy.Wire.Proxy;
using Microsoft.Extensions.Logging;

namespace KeyProxy.Grains;

/// <summary>
/// The subscriber's side of the leases between it and its proxy sessions (issue 8, "no SA left on one side only").
/// The grain lists its handset's live sessions with the inbound SPIs each installed at the handset (from the key
/// transfers it sealed). Every <see cref="ProxyNetworkOptions.SessionAuditInterval"/> it asks each session whether it
/// still holds SAs for this handset; a session whose silo died answers from a fresh activation that it does not, and
/// the grain then owes the handset an SA delete for that session's SPIs. The list lives in memory only: after a
/// reactivation of this grain the sessions list themselves again with their next lease renewal
/// (<see cref="RenewSession"/>), so nothing needs writing to storage on the exchange path.
/// </summary>
/// <remarks>
/// Timers and silos (issue 14). The audit is a grain timer, not a reminder: what it checks (the session list) dies
/// with this activation, and a reminder would only wake an activation with nothing to audit; the sessions' own lease
/// renewals rebuild the list wherever this grain comes back. What it owes once a session is found dead is different:
/// an SA delete not yet delivered (the handset's edge did not answer) is work a silo death would leave undone, with the
/// handset holding SAs nobody else will delete. Those are persisted (<see cref="SubscriberState.PendingSaDeletes"/>,
/// written only on this failure path) under a reminder (<see cref="PendingDeletesReminder"/>, durable with
/// Reminders.AzureStorage), which brings the grain back on any silo until they are delivered or moot.
/// </remarks>
public sealed partial class SubscriberGrain : IRemindable
{
    /// <summary>The reminder held while <see cref="SubscriberState.PendingSaDeletes"/> is not empty.</summary>
    internal const string PendingDeletesReminder = "pending-sa-deletes";

    /// <summary>A probe of one session that takes longer than this counts as no answer (its silo may be dying); asked again next time.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    private readonly Dictionary<Guid, SessionLease> _sessions = [];

    private IGrainTimer? _audit;

    /// <summary><see cref="SubscriberState.PendingSaDeletes"/> changed since it was last written.</summary>
    private bool _pendingUnsaved;

    /// <summary>Whether <see cref="PendingDeletesReminder"/> is (believed) registered; a reminder tick proves it.</summary>
    private bool _reminderHeld;

    /// <summary>How many sessions started while this activation lived (<see cref="BeginSession"/>): their order.</summary>
    private long _listings;

    /// <summary>Takes over the sessions an earlier activation stored when the runtime deactivated it, and audits them.</summary>
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var listed = State.State.ListedSessions;
        if (listed.Count == 0) return Task.CompletedTask;
        foreach (var l in listed)
        {
            var lease = new SessionLease(l.TunnelId, 0) { Peer = l.Peer };
            lease.InboundSpis.UnionWith(l.InboundSpis);
            _sessions.TryAdd(l.Session, lease);
        }
        LogSessionsRestored(Nai, listed.Count);
        // Cleared in memory: the next write of the state (deactivation, attach, owed deletes) stores the list as it is then.
        State.State.ListedSessions = [];
        EnsureAudit();
        return Task.CompletedTask;
    }

    /// <summary>
    /// Issue 15: the runtime may end this activation while its silo lives (its grain directory entry was held by a silo
    /// that died, shutdown, migration to the handset's edge). The session list was in memory only, so a session that
    /// died meanwhile (on the dead silo, or the same way) could no longer be audited, and its SAs stayed at the handset
    /// for ever: bob's old SA in the edge kill -9 fault test. The list is stored, and the pending-deletes reminder
    /// brings the grain back to audit it even if nothing else calls it. Not for an explicit DeactivateOnIdle, which
    /// stands for a silo's death (what is lost then is issue 15's double death).
    /// </summary>
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _audit?.Dispose();
        _audit = null;
        if (_sessions.Count == 0 || reason.ReasonCode == DeactivationReasonCode.ApplicationRequested
            || SessionAuditInterval is not { } every || every <= TimeSpan.Zero) return;
        State.State.ListedSessions = [.. _sessions.Select(p => new ListedSession(p.Key, p.Value.TunnelId, p.Value.Peer, [.. p.Value.InboundSpis]))];
        LogSessionsStored(Nai, _sessions.Count, reason.ReasonCode);
        try
        {
            await State.WriteStateAsync(cancellationToken);
            _pendingUnsaved = false;
            if (reason.ReasonCode != DeactivationReasonCode.Migrating)
            {
                // Migration re-activates the grain at once with this state; otherwise the reminder does.
                await this.RegisterOrUpdateReminder(PendingDeletesReminder, every, PendingDeleteRetry);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogSessionsNotStored(Nai, _sessions.Count, e.Message);
        }
    }

    /// <summary>
    /// A proxy session of this subscriber with <paramref name="peer"/> started (<see cref="BeginSession"/>): detach closes
    /// it, the audit checks it. True when no other session with that peer is listed: the handset's first contact with
    /// it, as far as the network knows (RFC 7296 2.4, INITIAL_CONTACT).
    /// </summary>
    private bool ListSession(Guid session, string peer)
    {
        if (_sessions.Remove(session, out var earlier) && earlier.InboundSpis.Count > 0)
        {
            // The same key starting again: the earlier activation died with its silo and the handset's retried
            // request re-created it. What the earlier one installed has nobody left to delete it.
            Owe(earlier);
        }
        bool firstContact = true;
        foreach (var other in _sessions.Values)
        {
            if (other.Peer == peer)
            {
                firstContact = false;
                break;
            }
        }
        if (State.State.Attachment is { } attachment) _sessions[session] = new SessionLease(attachment.TunnelId, ++_listings) { Peer = peer };
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
        _sessions.Remove(session);
        return Task.CompletedTask;
    }

    public Task<bool> RenewSession(Guid session, string edgeId, uint tunnelId, string peerAddress, uint[] inboundSpis)
    {
        var attachment = State.State.Attachment;
        if (attachment is null || attachment.EdgeId != edgeId || attachment.TunnelId != tunnelId)
        {
            _sessions.Remove(session);
            return Task.FromResult(false);
        }
        if (!_sessions.TryGetValue(session, out var lease))
        {
            // Listed again after this grain's reactivation (or a renewal that crossed the session's start).
            _sessions[session] = lease = new SessionLease(tunnelId, 0);
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
        // A union: a renewal may cross a key transfer sealed meanwhile, and deletes come through SealKeyTransfer.
        foreach (var spi in inboundSpis) lease.InboundSpis.Add(spi);
        EnsureAudit();
        return Task.FromResult(true);
    }

    /// <summary>Records what a sealed key transfer installs or deletes at the handset on behalf of <paramref name="session"/>.</summary>
    private void Track(Guid session, uint tunnelId, KeyTransferContent content)
    {
        if (content is not (SaInstall or SaDelete)) return;
        if (!_sessions.TryGetValue(session, out var lease))
        {
            _sessions[session] = lease = new SessionLease(tunnelId, 0);
            EnsureAudit();
        }
        switch (content)
        {
            case SaInstall install:
                lease.InboundSpis.Add(install.Sa.InboundSpi);
                lease.Peer = install.Sa.PeerAddress.ToString();
                break;
            case SaDelete delete:
                foreach (var spi in delete.InboundSpis) lease.InboundSpis.Remove(spi);
                break;
        }
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
            await SettlePendingDeletesAsync();
            return;
        }
        var ids = new Guid[_sessions.Count];
        _sessions.Keys.CopyTo(ids, 0);
        var probes = new Task<bool?>[ids.Length];
        for (int i = 0; i < ids.Length; i++) probes[i] = ProbeAsync(ids[i]);
        var alive = await Task.WhenAll(probes);
        for (int i = 0; i < ids.Length; i++)
        {
            if (alive[i] == false && _sessions.Remove(ids[i], out var dead))
            {
                LogSessionGone(Nai, ids[i], dead.InboundSpis.Count);
                Owe(dead);
                await RemoveRoutesAsync(ids[i]);
            }
        }
        await SettlePendingDeletesAsync();
    }

    /// <summary>Records the SA delete owed for a dead session's SPIs (nothing when it installed none).</summary>
    private void Owe(SessionLease dead)
    {
        if (dead.InboundSpis.Count == 0 || dead.Peer is null) return;
        State.State.PendingSaDeletes.Add(new PendingSaDelete(dead.TunnelId, dead.Peer, [.. dead.InboundSpis]));
        _pendingUnsaved = true;
    }

    /// <summary>The reminder's tick: the pending deletes again, on whichever silo this grain now lives.</summary>
    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != PendingDeletesReminder) return;
        _reminderHeld = true;
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

    /// <summary>Writes the pending list when it changed; holds the reminder while it is not empty, drops it once it is.</summary>
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

            if (pending.Count > 0 && !_reminderHeld)
            {
                await this.RegisterOrUpdateReminder(PendingDeletesReminder, PendingDeleteRetry, PendingDeleteRetry);
                _reminderHeld = true;
            }
            else if (pending.Count == 0 && _reminderHeld)
            {
                if (await this.GetReminder(PendingDeletesReminder) is { } reminder) await this.UnregisterReminder(reminder);
                _reminderHeld = false;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Storage or the reminder table is unreachable (the Azure SDK's RequestFailedException among others).
            LogPendingDeletesNotSettled(Nai, pending.Count, e.Message);
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

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: {Count} proxy sessions stored for the next activation to audit (deactivated: {Reason})")]
    private partial void LogSessionsStored(string nai, int count, DeactivationReasonCode reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: {Count} proxy sessions not stored at deactivation (storage or reminders): {Error}")]
    private partial void LogSessionsNotStored(string nai, int count, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai}: {Count} proxy sessions of the previous activation taken over for the audit")]
    private partial void LogSessionsRestored(string nai, int count);

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
