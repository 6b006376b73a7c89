using KeyProxy.Ipsec.Policy;
using KeyProxy.Primitives;

namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// One unidirectional ESP SA (RFC 4301 4.4.2.1): SPI, suite, keys, mode, lifetime, counters. Sans-IO: time is
/// passed in by the caller. Calls on one SA are serialised by a lock; different SAs run in parallel.
/// </summary>
public abstract class EspSa : IDisposable
{
    private protected readonly Lock Gate = new();
    private protected readonly EspTransform Transform;
    private readonly long _createdTicks;
    private readonly ulong _softBytes;
    private readonly ulong _hardBytes;
    private readonly ulong _softPackets;
    private readonly ulong _hardPackets;
    private readonly long _softTicks;
    private readonly long _hardTicks;
    private ulong _bytes;
    private ulong _packets;
    private int _reached;
    private protected bool Disposed;

    private protected EspSa(EspSaParameters parameters, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Spi = parameters.Spi;
        Suite = parameters.Suite;
        Mode = parameters.Mode;
        Lifetime = parameters.Lifetime ?? SaLifetime.Unlimited;
        LocalSelectors = parameters.LocalSelectors ?? [];
        RemoteSelectors = parameters.RemoteSelectors ?? [];
        CompiledLocal = CompiledSelector.CompileAll(LocalSelectors);
        CompiledRemote = CompiledSelector.CompileAll(RemoteSelectors);
        CreatedAt = now;
        _createdTicks = now.UtcTicks;
        _softBytes = Lifetime.SoftBytes ?? ulong.MaxValue;
        _hardBytes = Lifetime.HardBytes ?? ulong.MaxValue;
        _softPackets = Lifetime.SoftPackets ?? ulong.MaxValue;
        _hardPackets = Lifetime.HardPackets ?? ulong.MaxValue;
        _softTicks = Lifetime.SoftTime is { } soft ? soft.Ticks : long.MaxValue;
        _hardTicks = Lifetime.HardTime is { } hard ? hard.Ticks : long.MaxValue;
        Transform = EspTransform.Create(Suite, parameters.EncryptionKey.Span, parameters.IntegrityKey.Span, parameters.Random ?? SecureRandomSource.Instance);
    }

    public uint Spi { get; }

    public EspSuite Suite { get; }

    public ChildSaMode Mode { get; }

    public SaLifetime Lifetime { get; }

    public DateTimeOffset CreatedAt { get; }

    public IReadOnlyList<TrafficSelector> LocalSelectors { get; }

    public IReadOnlyList<TrafficSelector> RemoteSelectors { get; }

    public EspSaCounters Counters { get; } = new();

    /// <summary>True with extended (64-bit) sequence numbers (RFC 4303 2.2.1).</summary>
    public bool Esn => Suite.Esn == EsnMode.Esn;

    /// <summary>A soft limit was reached: the owner should rekey.</summary>
    public bool RekeyWanted => (Volatile.Read(ref _reached) & (int)LifetimeEvents.SoftLimitReached) != 0;

    /// <summary>A hard limit was reached: the SA refuses packets.</summary>
    public bool IsExpired => (Volatile.Read(ref _reached) & (int)LifetimeEvents.HardLimitReached) != 0;

    /// <summary>Bytes of IV, ICV and alignment of this SA's transform.</summary>
    public int IvLength => Transform.IvLength;

    public int IcvLength => Transform.IcvLength;

    public int BlockAlignment => Transform.BlockAlignment;

    internal CompiledSelector[] CompiledLocal { get; }

    internal CompiledSelector[] CompiledRemote { get; }

    /// <summary>Checks the time limits; returns limits newly reached (each reported once, here or on a packet).</summary>
    public LifetimeEvents Tick(DateTimeOffset now)
    {
        lock (Gate)
        {
            return CheckTime(now);
        }
    }

    /// <summary>Time limits since creation; call under <see cref="Gate"/>.</summary>
    private protected LifetimeEvents CheckTime(DateTimeOffset now)
    {
        var elapsed = now.UtcTicks - _createdTicks;
        var reached = LifetimeEvents.None;
        if (elapsed >= _softTicks)
        {
            reached |= LifetimeEvents.SoftLimitReached;
        }

        if (elapsed >= _hardTicks)
        {
            reached |= LifetimeEvents.SoftLimitReached | LifetimeEvents.HardLimitReached;
        }

        return Reach(reached);
    }

    /// <summary>Counts one processed packet against the byte and packet limits; call under <see cref="Gate"/>.</summary>
    private protected LifetimeEvents Account(int payloadBytes)
    {
        Counters.Count(payloadBytes);
        _packets++;
        _bytes += (ulong)payloadBytes;
        var reached = LifetimeEvents.None;
        if (_packets >= _softPackets || _bytes >= _softBytes)
        {
            reached |= LifetimeEvents.SoftLimitReached;
        }

        if (_packets >= _hardPackets || _bytes >= _hardBytes)
        {
            reached |= LifetimeEvents.SoftLimitReached | LifetimeEvents.HardLimitReached;
        }

        return Reach(reached);
    }

    private LifetimeEvents Reach(LifetimeEvents reached)
    {
        var fresh = reached & ~(LifetimeEvents)_reached;
        Volatile.Write(ref _reached, _reached | (int)reached);
        return fresh;
    }

    /// <summary>
    /// True when the packet's addresses, protocol and ports fall in this SA's selectors (RFC 4301 5.2: the
    /// inner packet of an inbound SA must match it). <paramref name="localIsSource"/> is true for outbound traffic.
    /// </summary>
    public bool Covers(in PacketSelector packet, bool localIsSource) =>
        CompiledSelector.Covers(CompiledLocal, CompiledRemote, packet, localIsSource);

    public void Dispose()
    {
        lock (Gate)
        {
            if (Disposed)
            {
                return;
            }

            Disposed = true;
            Transform.Dispose();
        }

        GC.SuppressFinalize(this);
    }

    public override string ToString() => $"{GetType().Name} 0x{Spi:x8} {Suite} {Mode}";
}
