namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// SA lifetime (RFC 4301 4.4.2.1): soft and hard limits in protected payload bytes, packets and time since
/// the SA was created. Null means no limit. A soft limit asks for a rekey; a hard limit ends the SA.
/// The packet that reaches a byte or packet hard limit is still processed; the next one is refused.
/// </summary>
public sealed record SaLifetime
{
    public static SaLifetime Unlimited { get; } = new();

    public ulong? SoftBytes { get; init; }
    public ulong? HardBytes { get; init; }
    public ulong? SoftPackets { get; init; }
    public ulong? HardPackets { get; init; }
    public TimeSpan? SoftTime { get; init; }
    public TimeSpan? HardTime { get; init; }
}
