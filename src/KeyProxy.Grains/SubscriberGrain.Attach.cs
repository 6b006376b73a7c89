using System.Net;
using KeyProxy.Abstractions;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace KeyProxy.Grains;

/// <summary>
/// Attach, detach and key delivery (seed claims 7-10: the authentication server authenticates the
/// terminal and pushes its profile copy to the edge it is on). The activation follows the handset:
/// the first call comes from its edge (prefer-local placement), and an attach from another edge's
/// silo migrates it there.
/// </summary>
[PreferLocalPlacement]
public sealed partial class SubscriberGrain : ISubscriberSessionGrain, IGrainMigrationParticipant
{
    /// <summary>
    /// Key transfer counters are reserved in blocks so a counter is never reused after a reactivation. No timer or
    /// reminder is involved (issue 14): the reservation is written before a counter of a new block is used, so a silo
    /// death leaves nothing to finish, and the next activation resumes above the reserved block.
    /// </summary>
    private const ulong CounterBlock = 1024;

    private ulong _counter;
    private bool _counterResumed;

    private SubscriberIdentity Identity => new(IdentityType.Nai, Nai);

    public async Task<AttachOutcome> Attach(AttachAttempt attempt)
    {
        var profile = State.State.Profile;
        if (profile is null)
        {
            GrainMetrics.Attach(KeyProxyReason.UnknownSubscriber);
            return AttachOutcome.Reject((ushort)KeyProxyReason.UnknownSubscriber, "unknown subscriber");
        }
        if (attempt.HandsetNonce.Length != Nonce16.Size || attempt.EdgeNonce.Length != Nonce16.Size)
        {
            GrainMetrics.Attach(KeyProxyReason.BadRequest);
            return AttachOutcome.Reject((ushort)KeyProxyReason.BadRequest, "nonces must be 16 bytes");
        }
        var attachKey = SubscriberKeys.DeriveAttachKey(profile.Secret);
        try
        {
            var handsetNonce = Nonce16.Read(attempt.HandsetNonce);
            var edgeNonce = Nonce16.Read(attempt.EdgeNonce);
            if (!AttachProofs.VerifyAttachProof(attachKey, Identity, handsetNonce, edgeNonce, attempt.Proof))
            {
                LogAttachRefused(Nai, attempt.EdgeId);
                GrainMetrics.Attach(KeyProxyReason.AuthenticationFailed);
                return AttachOutcome.Reject((ushort)KeyProxyReason.AuthenticationFailed, "the attach proof did not verify");
            }

            var previous = State.State.Attachment;
            State.State.Attachment = new Attachment(attempt.EdgeId, attempt.HandsetAddress, attempt.TunnelId, DateTimeOffset.UtcNow);
            State.State.DeliveryKey = SubscriberKeys.DeriveDeliveryKey(profile.Secret, handsetNonce, edgeNonce, Identity);
            // A fresh delivery key: counting starts again (the nonce in each key transfer is random anyway).
            _counter = 0;
            _counterResumed = true;
            State.State.CounterReservedUpTo = CounterBlock;
            _counterDurableUpTo = 0;
            _grants.Clear();
            await WriteStateOrMakeWayAsync();
            _counterDurableUpTo = CounterBlock;
            _attachedHere = true;
            await EndPreviousAttachmentAsync(previous, attempt.EdgeId, attempt.TunnelId);
            LogAttached(Nai, attempt.EdgeId, attempt.HandsetAddress, attempt.TunnelId);
            GrainMetrics.Attach(rejected: null);

            // Claim 9: the subscriber's activation moves to the silo of the handset's new edge.
            if (!attempt.EdgeSilo.Equals(ServiceProvider.GetRequiredService<ILocalSiloDetails>().SiloAddress))
            {
                RequestContext.Set(IPlacementDirector.PlacementHintKey, attempt.EdgeSilo);
                MigrateOnIdle();
            }

            var proof = AttachProofs.ComputeAcceptProof(attachKey, handsetNonce, edgeNonce, attempt.TunnelId, IPAddress.Parse(attempt.HandsetAddress));
            return new AttachOutcome(true, 0, "", proof, EdgeProfileCopy.Of(profile));
        }
        finally
        {
            Array.Clear(attachKey);
        }
    }

    /// <summary>
    /// The activation moves to the handset's edge silo right after the attach (claim 9): the key transfer counter goes
    /// with it (the persisted state goes by itself), so the first session there gets a grant instead of waiting for a
    /// new counter block to be written; and so does knowing that the session list is complete.
    /// </summary>
    public void OnDehydrate(IDehydrationContext context)
    {
        if (!_counterResumed) return;
        context.TryAddValue("keyproxy.counter", _counter);
        context.TryAddValue("keyproxy.counter-durable", _counterDurableUpTo);
        context.TryAddValue("keyproxy.attached-here", _attachedHere);
    }

    public void OnRehydrate(IRehydrationContext context)
    {
        if (!context.TryGetValue("keyproxy.counter", out ulong counter) || !context.TryGetValue("keyproxy.counter-durable", out ulong durable)) return;
        // Consistent with storage: the durable mark only ever rose after a reservation was written.
        (_counter, _counterDurableUpTo, _counterResumed) = (counter, durable, true);
        if (context.TryGetValue("keyproxy.attached-here", out bool attachedHere)) _attachedHere = attachedHere;
    }

    public async Task<bool> Detach(string edgeId, uint tunnelId, byte[] proof)
    {
        var current = State.State.Attachment;
        if (current is null || current.EdgeId != edgeId || current.TunnelId != tunnelId || State.State.DeliveryKey is null
            || !AttachProofs.VerifyDetachProof(State.State.DeliveryKey, tunnelId, proof))
        {
            return false;
        }
        await ClearAttachmentAsync("handset detached");
        return true;
    }

    public async Task Detached(string edgeId, uint tunnelId)
    {
        var current = State.State.Attachment;
        if (current is not null && current.EdgeId == edgeId && current.TunnelId == tunnelId)
            await ClearAttachmentAsync("the edge dropped the handset");
    }

    public async Task<byte[]?> SealKeyTransfer(Guid session, uint tunnelId, byte[] content, string? initialContactFrom)
    {
        if (State.State.Attachment?.TunnelId != tunnelId || State.State.DeliveryKey is null)
            return null;
        if (KeyTransferContent.TryParse(content, out var parsed) != WireError.None)
            return null;
        // Which SAs this session gives the handset, for the audit (SubscriberGrain.Sessions.cs): an install's SPI is in the
        // durable session record before the install is sealed (issue 15, write before deliver).
        if (Track(session, tunnelId, parsed!) && parsed is SaInstall && RecordRequired && !await RecordDurablyAsync())
            throw new OrleansException($"subscriber {Nai}: the session record could not be written, so the install is not sealed");
        var sealedMessage = await SealAsync(parsed!);
        if (initialContactFrom is not null && parsed is SaInstall install)
            SupersedeOlderSessions(session, install.Sa.PeerAddress.ToString(), initialContactFrom);
        return sealedMessage;
    }

    /// <summary>Seals for the current attachment with the next counter (reserving counters in blocks in storage).</summary>
    private async Task<byte[]> SealAsync(KeyTransferContent content)
    {
        var key = State.State.DeliveryKey!;
        if (!_counterResumed)
        {
            // After a reactivation: skip every counter an earlier activation may have used.
            _counter = State.State.CounterReservedUpTo;
            _counterResumed = true;
            _counterDurableUpTo = State.State.CounterReservedUpTo;
        }
        var counter = ++_counter;
        if (counter >= State.State.CounterReservedUpTo)
        {
            var stored = State.State.CounterReservedUpTo;
            State.State.CounterReservedUpTo = counter + CounterBlock;
            try
            {
                await State.WriteStateAsync();
                if (State.State.CounterReservedUpTo > _counterDurableUpTo) _counterDurableUpTo = State.State.CounterReservedUpTo;
            }
            catch
            {
                // Issue 15: a block whose reservation is not stored is not ours to use. Kept in memory, the next seals
                // used it, and the next activation (resuming from the stored reservation) sealed those counters again.
                // This counter is burnt; the next seal tries the reservation again.
                State.State.CounterReservedUpTo = stored;
                throw;
            }
        }
        using var sealer = new KeyTransferSealer(key);
        return sealer.Seal(counter, content);
    }

    public async Task<ProxyCredentials?> BeginSession(Guid session, uint tunnelId, string peerAddress, uint firstInboundSpi)
    {
        var credentials = ProxyCredentialsFor(peerAddress);
        if (credentials is null) return credentials;
        var peer = IPAddress.Parse(peerAddress).ToString(); // parsed by ProxyCredentialsFor already
        bool firstContact = ListSession(session, peer);
        // Listed as installed already: should the session die after installing it, the audit deletes it at the handset
        // (an SPI it never installed there is ignored by the handset).
        if (firstInboundSpi != 0 && _sessions.TryGetValue(session, out var lease)) lease.InboundSpis.Add(firstInboundSpi);
        // Read, reserved and listed in one turn; then (issue 15, write before deliver) the listing goes into the durable
        // session record before the grant with which the session seals the install itself leaves here. Storage refusing:
        // no grant, the install is sealed by SealKeyTransfer, which writes the record first.
        var grant = Grant(tunnelId, firstContact);
        if (grant is not null && RecordRequired && !await RecordDurablyAsync())
        {
            Array.Clear(grant.DeliveryKey);
            grant = null;
        }
        return credentials with { InitialContact = firstContact, Grant = grant };
    }

    /// <summary>
    /// The delivery key of attachment <paramref name="tunnelId"/> and the next counter, for a session to seal its first key
    /// transfer itself; null (the session then asks <see cref="SealKeyTransfer"/>) when that is not the current attachment,
    /// when the next counter would need a reservation written first (SealKeyTransfer writes it, and waits for storage),
    /// or when too many counters were granted lately: the handset accepts a counter up to 63 below the highest it
    /// accepted (docs/wire.md), and a grant used late must stay within that window.
    /// </summary>
    private KeyTransferGrant? Grant(uint tunnelId, bool firstContact)
    {
        if (State.State.Attachment?.TunnelId != tunnelId || State.State.DeliveryKey is not { } key) return null;
        if (!_counterResumed)
        {
            // After a reactivation: skip every counter an earlier activation may have used (as SealAsync does).
            _counter = State.State.CounterReservedUpTo;
            _counterResumed = true;
            _counterDurableUpTo = State.State.CounterReservedUpTo;
        }
        if (_counter + 1 >= _counterDurableUpTo) return null;
        long now = Environment.TickCount64;
        while (_grants.TryPeek(out var oldest) && now - oldest.At > (long)GrantWindow.TotalMilliseconds) _grants.Dequeue();
        if (_grants.TryPeek(out var first) && _counter + 1 - first.Counter >= GrantSpread) return null;
        var counter = ++_counter;
        _grants.Enqueue((counter, now));
        // The list may lack sessions of this attachment (they list themselves again with their next renewal) when this
        // activation did not see the attach and is younger than two lease periods.
        var mayLackSessions = !_attachedHere && SessionAuditInterval is { } every && every > TimeSpan.Zero
            && now - _activatedAt < 2 * (long)every.TotalMilliseconds;
        return new KeyTransferGrant(tunnelId, key.ToArray(), counter) { ReportInitialContact = !firstContact || mayLackSessions };
    }

    /// <summary>Counters granted within <see cref="GrantWindow"/> stay within this many of each other (half the handset's replay window).</summary>
    private const ulong GrantSpread = 32;

    /// <summary>How long a granted counter counts as possibly unused: the longest a session takes to its first key transfer, with margin.</summary>
    private static readonly TimeSpan GrantWindow = TimeSpan.FromMinutes(1);

    private readonly Queue<(ulong Counter, long At)> _grants = new();

    /// <summary>Counters below this are reserved in storage (what <see cref="Grant"/> may hand out without a write).</summary>
    private ulong _counterDurableUpTo;

    private readonly long _activatedAt = Environment.TickCount64;

    /// <summary>
    /// This activation accepted the current attachment: every session of it began here (an older attachment's sessions are
    /// closed by the attach, and refused at their renewal), so the session list is complete.
    /// </summary>
    private bool _attachedHere;

    /// <summary>What a proxy session needs to run IKE as this subscriber with <paramref name="peerAddress"/>; null if it may not.</summary>
    private ProxyCredentials? ProxyCredentialsFor(string peerAddress)
    {
        var profile = State.State.Profile;
        if (profile is null || !profile.ProxyService || !IPAddress.TryParse(peerAddress, out var peer))
            return null;
        PeerPsk? psk = null;
        foreach (var candidate in profile.PreSharedKeys)
        {
            if (NetworkPrefix.TryParse(candidate.PeerPrefix, out var network, out _) && network.Contains(peer))
            {
                psk = candidate;
                break;
            }
        }
        if (psk is null && profile.Certificate is null)
            return null;
        string? peerIdentity = psk?.PeerIdentity;
        if (peerIdentity is null)
        {
            foreach (var c in profile.Conditions)
            {
                if (c.PeerIdentity is not null && NetworkPrefix.TryParse(c.PeerPrefix, out var network, out _) && network.Contains(peer))
                {
                    peerIdentity = c.PeerIdentity;
                    break;
                }
            }
        }
        return new ProxyCredentials(profile.IkeIdentity, psk?.Key, peerIdentity,
            psk is null ? profile.Certificate : null, profile.TrustedCaPems, profile.IkeProposals, profile.EspProposals, profile.Conditions);
    }

    private async Task ClearAttachmentAsync(string reason)
    {
        State.State.Attachment = null;
        if (State.State.DeliveryKey is { } key) Array.Clear(key);
        State.State.DeliveryKey = null;
        await WriteStateOrMakeWayAsync();
        // The sessions send their DELETEs through the edge, which keeps the handset's sockets until this returns.
        await CloseSessionsAsync(reason);
        LogDetached(Nai, reason);
    }

    /// <summary>Flow 4 and 5: the old edge drops its profile copy and tunnel; the old sessions end (their SAs belonged to the old attachment).</summary>
    private async Task EndPreviousAttachmentAsync(Attachment? previous, string edgeId, uint tunnelId)
    {
        // Awaited, not fired: the sessions send their DELETEs through the old edge, and revoking
        // first dropped the handset's sockets there, so the peer kept the old IKE SA open.
        await CloseSessionsAsync("the handset attached again");
        if (previous is null || previous.EdgeId == edgeId && previous.TunnelId == tunnelId) return;
        try
        {
            await GrainFactory.GetGrain<IEdgeGrain>(previous.EdgeId).Revoke(Nai, previous.TunnelId);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or InvalidOperationException)
        {
            // The old edge's silo is gone: its profile copy went with it.
            LogRevokeFailed(Nai, previous.EdgeId, e.Message);
        }
    }

    private async Task CloseSessionsAsync(string reason)
    {
        var closing = new List<Task>();
        foreach (var session in _sessions.Keys) closing.Add(GrainFactory.GetGrain<IProxySessionGrain>(session).Close(reason));
        // The handset dropped (or drops, attaching again) every SA of the old attachment: nothing left to delete for it.
        foreach (var id in _sessions.Keys.ToArray()) Unlist(id);
        if (State.State.PendingSaDeletes.Count > 0)
        {
            State.State.PendingSaDeletes.Clear();
            _pendingUnsaved = true;
        }
        try { await Task.WhenAll(closing).WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception e) when (e is TimeoutException or OrleansException) { LogCloseFailed(Nai, e.Message); }
        await TryPersistRecordAsync(); // the record emptied too
        await SettlePendingDeletesAsync(); // writes the cleared list and drops the reminder, when there was one
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai} attached at edge {EdgeId} as {Address} (tunnel {TunnelId})")]
    private partial void LogAttached(string nai, string edgeId, string address, uint tunnelId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: attach proof from edge {EdgeId} did not verify")]
    private partial void LogAttachRefused(string nai, string edgeId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Subscriber {Nai} detached: {Reason}")]
    private partial void LogDetached(string nai, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: proxy sessions did not all close: {Error}")]
    private partial void LogCloseFailed(string nai, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Subscriber {Nai}: could not revoke the profile copy at edge {EdgeId}: {Error}")]
    private partial void LogRevokeFailed(string nai, string edgeId, string error);
}
