namespace KeyProxy.Handset;

/// <summary>
/// Packets the SPD says to protect while their SA is still being negotiated (seed Fig. 7: the
/// handset waits for the key transfer). Bounded in packets and bytes per destination; what does
/// not fit is refused (tail drop) and counted, and what waited longer than the hold time is
/// dropped on <see cref="Expire"/>. Buffers are owned copies: the caller's span is not kept.
/// </summary>
public sealed class HeldPackets
{
    private readonly Queue<(byte[] Packet, DateTimeOffset HeldAt)> _queue = new();
    private int _bytes;

    public HeldPackets(int maxPackets, int maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxPackets, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 1);
        MaxPackets = maxPackets;
        MaxBytes = maxBytes;
    }

    public int MaxPackets { get; }

    public int MaxBytes { get; }

    public int Count => _queue.Count;

    public int Bytes => _bytes;

    /// <summary>When the oldest held packet was queued, if any.</summary>
    public DateTimeOffset? OldestHeldAt => _queue.Count == 0 ? null : _queue.Peek().HeldAt;

    /// <summary>Copies and holds the packet; false (nothing held) when a bound would be exceeded.</summary>
    public bool TryHold(ReadOnlySpan<byte> packet, DateTimeOffset now)
    {
        if (_queue.Count >= MaxPackets || _bytes + packet.Length > MaxBytes) return false;
        _queue.Enqueue((packet.ToArray(), now));
        _bytes += packet.Length;
        return true;
    }

    /// <summary>Drops packets held since before <paramref name="heldBefore"/>; returns how many.</summary>
    public int Expire(DateTimeOffset heldBefore)
    {
        int dropped = 0;
        while (_queue.Count > 0 && _queue.Peek().HeldAt < heldBefore)
        {
            _bytes -= _queue.Dequeue().Packet.Length;
            dropped++;
        }
        return dropped;
    }

    /// <summary>Takes every held packet, oldest first (when the SA arrived).</summary>
    public List<byte[]> Release()
    {
        var packets = new List<byte[]>(_queue.Count);
        while (_queue.Count > 0) packets.Add(_queue.Dequeue().Packet);
        _bytes = 0;
        return packets;
    }

    /// <summary>Drops everything (the request failed); returns how many packets.</summary>
    public int Clear()
    {
        int n = _queue.Count;
        _queue.Clear();
        _bytes = 0;
        return n;
    }
}
