using KeyProxy.Ipsec.Esp;
using KeyProxy.Primitives;
using KeyProxy.Wire;
using KeyProxy.Wire.Ip;
using KeyProxy.Wire.Proxy;

namespace KeyProxy.Handset;

/// <summary>
/// Key transfers (seed Fig. 9, claim 1's "transfer of the negotiated key"; docs/wire.md "Key
/// transfer"): opened with this attachment's delivery key, counter-checked against replay, then
/// an SA install (new or rekey), an SA delete, or a proxy failure.
/// </summary>
public sealed partial class Handset
{
    private void HandleKeyTransfer(ReadOnlySpan<byte> message)
    {
        var opened = _opener!.Open(message);
        switch (opened.Status)
        {
            case KeyTransferStatus.Ok:
                break;
            case KeyTransferStatus.Replayed:
                Interlocked.Increment(ref Counters.keyTransfersReplayed);
                Emit(new KeyTransferRejected(opened.Status, $"counter {opened.Counter} already seen"));
                return;
            default:
                Interlocked.Increment(ref Counters.keyTransfersRejected);
                Emit(new KeyTransferRejected(opened.Status, opened.Error.ToString()));
                return;
        }

        switch (opened.Content)
        {
            case SaInstall install:
                Install(install);
                break;
            case SaDelete delete:
                Interlocked.Increment(ref Counters.saDeletes);
                foreach (var spi in delete.InboundSpis)
                    if (_byInbound.TryGetValue(spi, out var sa)) RemoveSa(sa, SaRemovalReason.DeletedByNetwork);
                break;
            case ProxyFailure failure:
                Interlocked.Increment(ref Counters.proxyFailures);
                FailRequest(failure.RequestId, failure.Reason, failure.Text, byEdge: false);
                break;
        }
    }

    private void Install(SaInstall install)
    {
        var bundle = install.Sa;
        PendingProxyRequest? request = null;
        if (install.RequestId != 0)
        {
            foreach (var p in _pending.Values)
                if (p.RequestId == install.RequestId) request = p;
            if (request is not null && request.Nonce != install.HandsetNonce)
            {
                Reject("the handset nonce does not match request " + install.RequestId);
                return;
            }
        }
        if (bundle.Mode != ChildSaMode.Tunnel)
        {
            Reject($"{bundle.Mode} is not supported: the handset runs tunnel-mode ESP");
            return;
        }
        if (bundle.UdpEncapsulation && (bundle.PeerPort == 0 || bundle.HandsetPort == 0))
        {
            Reject($"ESP in UDP needs both ports (RFC 3948), got handset port {bundle.HandsetPort} and peer port {bundle.PeerPort}");
            return;
        }
        if (!bundle.Suite.IsSupported)
        {
            Reject($"unsupported suite {bundle.Suite}");
            return;
        }
        if (!Offered(bundle.Suite))
        {
            // The network negotiates only what the handset offered (proxy request, attach); anything else is refused.
            Reject($"suite {bundle.Suite} was not offered; this handset runs {string.Join(", ", Config.Suites)}");
            return;
        }
        if (_byInbound.ContainsKey(bundle.InboundSpi) || _byOutbound.ContainsKey(bundle.OutboundSpi))
        {
            Reject($"SPIs 0x{bundle.InboundSpi:x8}/0x{bundle.OutboundSpi:x8} are already installed");
            return;
        }

        var now = _clock.UtcNow;
        EspSaPair pair;
        try
        {
            var lifetime = ToLifetime(bundle.Lifetimes);
            pair = EspSaFactory.Create(
                Parameters(bundle.InboundSpi, bundle, bundle.InboundEncryptionKey, bundle.InboundIntegrityKey, lifetime),
                Parameters(bundle.OutboundSpi, bundle, bundle.OutboundEncryptionKey, bundle.OutboundIntegrityKey, lifetime),
                now);
        }
        catch (ArgumentException e)
        {
            // Key lengths that do not fit the suite: authentic but unusable.
            Reject(e.Message);
            return;
        }
        _sad.Add(pair);
        var installed = new InstalledSa(pair, IpAddressValue.FromIPAddress(bundle.PeerAddress), bundle.UdpEncapsulation, bundle.PeerPort, bundle.HandsetPort);
        _byInbound[bundle.InboundSpi] = installed;
        _byOutbound[bundle.OutboundSpi] = installed;
        _nextLifetimeCheck ??= now + Config.LifetimeCheckInterval;
        Interlocked.Increment(ref Counters.sasInstalled);

        if (install.Replaces != 0 && _byInbound.TryGetValue(install.Replaces, out var old))
        {
            // Outbound moves to the new pair at once (the SAD prefers the newest); the old inbound SA
            // stays until traffic arrives on the new one, within the overlap limit.
            old.RemoveAt = Min(old.RemoveAt, now + Config.RekeyOverlapLimit);
            installed.DrainsPredecessor = install.Replaces;
        }

        // Release what waited for this peer (seed Fig. 9: the held packets go out once the SA is in).
        int released = 0;
        if (_pending.TryGetValue(installed.Peer, out var waiting) && (request is null || ReferenceEquals(waiting, request)))
        {
            _pending.Remove(installed.Peer);
            foreach (var packet in waiting.Held.Release())
            {
                var datagram = new byte[MaxDatagramLength(packet.Length)];
                var sent = Encrypt(installed, packet, datagram);
                if (sent.Status != HandsetPacketStatus.Ok) continue;
                EmitDatagram(datagram[..sent.Length]);
                released++;
            }
            Interlocked.Add(ref Counters.released, released);
        }
        Emit(new SaInstalled(bundle.InboundSpi, bundle.OutboundSpi, bundle.PeerAddress, bundle.Suite, install.RequestId, install.Replaces, released));
    }

    /// <summary>Whether <paramref name="suite"/> is one of <see cref="HandsetConfig.Suites"/> (the PFS group is IKE's business, not ESP's).</summary>
    private bool Offered(EspSuite suite)
    {
        foreach (var s in Config.Suites)
            if (s.Encryption == suite.Encryption && s.EncryptionKeyBits == suite.EncryptionKeyBits && s.Integrity == suite.Integrity && s.Esn == suite.Esn)
                return true;
        return false;
    }

    private EspSaParameters Parameters(uint spi, SaBundle bundle, ReadOnlyMemory<byte> encryptionKey, ReadOnlyMemory<byte> integrityKey, SaLifetime lifetime) => new()
    {
        Spi = spi,
        Suite = bundle.Suite,
        EncryptionKey = encryptionKey,
        IntegrityKey = integrityKey,
        Mode = bundle.Mode,
        Lifetime = lifetime,
        ReplayWindowSize = Config.ReplayWindowSize,
        LocalSelectors = bundle.LocalSelectors,
        RemoteSelectors = bundle.RemoteSelectors,
        Random = _random,
    };

    private static SaLifetime ToLifetime(SaLifetimes l) => new()
    {
        SoftTime = l.SoftSeconds == 0 ? null : TimeSpan.FromSeconds(l.SoftSeconds),
        HardTime = l.HardSeconds == 0 ? null : TimeSpan.FromSeconds(l.HardSeconds),
        SoftBytes = l.SoftBytes == 0 ? null : l.SoftBytes,
        HardBytes = l.HardBytes == 0 ? null : l.HardBytes,
        SoftPackets = l.SoftPackets == 0 ? null : l.SoftPackets,
        HardPackets = l.HardPackets == 0 ? null : l.HardPackets,
    };

    private void Reject(string detail)
    {
        Interlocked.Increment(ref Counters.keyTransfersRejected);
        Emit(new KeyTransferRejected(KeyTransferStatus.Ok, detail));
    }

    private void ReportLifetime(InstalledSa sa, LifetimeEvents events)
    {
        if ((events & LifetimeEvents.SoftLimitReached) != 0 && !sa.SoftReported)
        {
            sa.SoftReported = true;
            Emit(new SaSoftLifetimeReached(sa.InboundSpi));
        }
        if ((events & LifetimeEvents.HardLimitReached) != 0)
            sa.RemoveAt = _clock.UtcNow; // removed on the next timer; it already refuses packets
    }

    private void RemoveSa(InstalledSa sa, SaRemovalReason reason)
    {
        _byInbound.Remove(sa.InboundSpi);
        _byOutbound.Remove(sa.OutboundSpi);
        _sad.Remove(sa.Pair);
        sa.Pair.Dispose();
        Emit(new SaRemoved(sa.InboundSpi, sa.OutboundSpi, reason));
    }

    private void RemoveAllSas(SaRemovalReason reason, bool report)
    {
        foreach (var sa in _byInbound.Values.ToArray())
        {
            if (report) RemoveSa(sa, reason);
            else
            {
                _sad.Remove(sa.Pair);
                sa.Pair.Dispose();
            }
        }
        _byInbound.Clear();
        _byOutbound.Clear();
    }

    /// <summary>Retransmissions, request timeouts, rekey overlaps and SA lifetimes.</summary>
    public void HandleTimer()
    {
        var now = _clock.UtcNow;
        RetryAttach(now);
        CheckEdge(now);
        RetryRequests(now);
        List<(InstalledSa Sa, SaRemovalReason Reason)>? remove = null;
        bool checkLifetimes = _nextLifetimeCheck is { } check && now >= check;
        foreach (var sa in _byInbound.Values)
        {
            if (checkLifetimes) ReportLifetime(sa, sa.Pair.Inbound.Tick(now) | sa.Pair.Outbound.Tick(now));
            if (sa.Pair.Inbound.IsExpired || sa.Pair.Outbound.IsExpired) (remove ??= []).Add((sa, SaRemovalReason.Expired));
            else if (sa.RemoveAt is { } at && now >= at) (remove ??= []).Add((sa, SaRemovalReason.Rekeyed));
        }
        if (checkLifetimes) _nextLifetimeCheck = _byInbound.Count > 0 ? now + Config.LifetimeCheckInterval : null;
        if (remove is not null)
            foreach (var (sa, reason) in remove) RemoveSa(sa, reason);
        if (_byInbound.Count == 0) _nextLifetimeCheck = null;
    }
}
