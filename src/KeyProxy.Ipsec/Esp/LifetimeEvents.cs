namespace KeyProxy.Ipsec.Esp;

/// <summary>
/// Lifetime limits crossed by one call (RFC 4301 4.4.2.1). Each flag is reported once per SA: soft means
/// "rekey wanted", hard means the SA is now expired and refuses further packets.
/// </summary>
[Flags]
public enum LifetimeEvents
{
    None = 0,
    SoftLimitReached = 1,
    HardLimitReached = 2,
}
