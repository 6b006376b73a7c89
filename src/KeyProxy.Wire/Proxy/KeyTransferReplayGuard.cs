namespace KeyProxy.Wire.Proxy;

/// <summary>
/// Counter-based replay protection of key transfers for one delivery key, with a sliding window as for ESP (RFC 4303
/// 3.4.3): a counter is accepted once, if it is above every counter accepted before or among the
/// <see cref="WindowSize"/> below the highest and not seen yet. The sender's counters strictly increase, but key
/// transfers of different proxy sessions travel separate paths to the handset and may arrive out of order (issue 15:
/// a session's SA install overtaken by the SA delete of the older session it replaced, and lost as a "replay").
/// Thread-safe; counts what it accepts and rejects.
/// </summary>
public sealed class KeyTransferReplayGuard
{
    /// <summary>How far below the highest accepted counter a late key transfer is still accepted.</summary>
    public const int WindowSize = 64;

    readonly Lock _lock = new();
    ulong _last;
    /// <summary>Bit i set: counter <c>_last - i</c> was accepted (bit 0 is <c>_last</c> itself).</summary>
    ulong _seen;
    bool _any;
    long _accepted;
    long _replayed;

    /// <summary>The highest accepted counter, or null before the first.</summary>
    public ulong? LastAccepted
    {
        get { lock (_lock) return _any ? _last : null; }
    }

    public long Accepted => Interlocked.Read(ref _accepted);

    public long Replayed => Interlocked.Read(ref _replayed);

    /// <summary>Would <paramref name="counter"/> be accepted now (no state change)?</summary>
    public bool IsFresh(ulong counter)
    {
        lock (_lock) return IsFreshLocked(counter);
    }

    /// <summary>Accepts and records <paramref name="counter"/> if it is fresh; otherwise counts a replay.</summary>
    public bool TryAccept(ulong counter)
    {
        lock (_lock)
        {
            if (!IsFreshLocked(counter))
            {
                _replayed++;
                return false;
            }

            if (!_any)
            {
                (_last, _seen, _any) = (counter, 1, true);
            }
            else if (counter > _last)
            {
                var shift = counter - _last;
                _seen = shift >= WindowSize ? 1 : (_seen << (int)shift) | 1;
                _last = counter;
            }
            else
            {
                _seen |= 1UL << (int)(_last - counter);
            }

            _accepted++;
            return true;
        }
    }

    private bool IsFreshLocked(ulong counter)
    {
        if (!_any || counter > _last) return true;
        var below = _last - counter;
        return below < WindowSize && (_seen & (1UL << (int)below)) == 0;
    }
}
