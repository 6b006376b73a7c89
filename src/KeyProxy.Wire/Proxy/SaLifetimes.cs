namespace KeyProxy.Wire.Proxy;

/// <summary>
/// Soft (rekey) and hard (expire) lifetimes of an SA in seconds, bytes and packets; 0 means no limit of that kind.
/// The proxy drives rekeys itself, so the handset uses the hard limits as a safety net.
/// </summary>
public readonly record struct SaLifetimes(
    uint SoftSeconds,
    uint HardSeconds,
    ulong SoftBytes,
    ulong HardBytes,
    ulong SoftPackets,
    ulong HardPackets)
{
    public const int Size = 4 + 4 + 8 * 4;

    public static readonly SaLifetimes None = default;
}
