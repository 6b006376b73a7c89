namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// Counters of one unidirectional SA: packets and payload bytes it protected (out) or accepted (in), and
/// drops by reason. Written under the SA's lock, readable from any thread.
/// </summary>
public sealed class EspSaCounters
{
    private long _packets;
    private long _bytes;
    private long _replay;
    private long _integrity;
    private long _malformed;
    private long _expired;
    private long _noSa;

    public long Packets => Volatile.Read(ref _packets);
    public long Bytes => Volatile.Read(ref _bytes);
    public long ReplayDrops => Volatile.Read(ref _replay);
    public long IntegrityDrops => Volatile.Read(ref _integrity);
    public long MalformedDrops => Volatile.Read(ref _malformed);
    public long ExpiredDrops => Volatile.Read(ref _expired);
    public long NoSaDrops => Volatile.Read(ref _noSa);
    public long TotalDrops => ReplayDrops + IntegrityDrops + MalformedDrops + ExpiredDrops + NoSaDrops;

    public long Drops(DropReason reason) => reason switch
    {
        DropReason.Replay => ReplayDrops,
        DropReason.IntegrityFailure => IntegrityDrops,
        DropReason.Malformed => MalformedDrops,
        DropReason.Expired => ExpiredDrops,
        _ => NoSaDrops,
    };

    internal void Count(int payloadBytes)
    {
        Interlocked.Increment(ref _packets);
        Interlocked.Add(ref _bytes, payloadBytes);
    }

    internal void Drop(DropReason reason)
    {
        switch (reason)
        {
            case DropReason.Replay: Interlocked.Increment(ref _replay); break;
            case DropReason.IntegrityFailure: Interlocked.Increment(ref _integrity); break;
            case DropReason.Malformed: Interlocked.Increment(ref _malformed); break;
            case DropReason.Expired: Interlocked.Increment(ref _expired); break;
            default: Interlocked.Increment(ref _noSa); break;
        }
    }

    public override string ToString() =>
        $"packets {Packets}, bytes {Bytes}, drops: replay {ReplayDrops}, icv {IntegrityDrops}, malformed {MalformedDrops}, expired {ExpiredDrops}, no SA {NoSaDrops}";
}
