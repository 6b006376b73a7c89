namespace KeyProxy.Wire.Proxy;

/// <summary>
/// Counter-based replay protection of key transfers for one delivery key: a counter is accepted only when it is
/// greater than every counter accepted before. Thread-safe; counts what it accepts and rejects.
/// </summary>
public sealed class KeyTransferReplayGuard
{
    readonly Lock _lock = new();
    ulong _last;
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
        lock (_lock) return !_any || counter > _last;
    }

    /// <summary>Accepts and records <paramref name="counter"/> if it is fresh; otherwise counts a replay.</summary>
    public bool TryAccept(ulong counter)
    {
        lock (_lock)
        {
            if (_any && counter <= _last)
            {
                _replayed++;
                return false;
            }

            _last = counter;
            _any = true;
            _accepted++;
            return true;
        }
    }
}
