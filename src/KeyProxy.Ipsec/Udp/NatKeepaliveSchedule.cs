namespace KeyProxy.Ipsec.Udp;

/// <summary>
/// When to send a NAT-keepalive (RFC 3948 2.3, 4): only when nothing else was sent to the peer for an interval
/// (20 s by default, as strongSwan's keep_alive). Sans-IO: the host passes the time of its last packet and now.
/// </summary>
public readonly record struct NatKeepaliveSchedule(TimeSpan Interval)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(20);

    public NatKeepaliveSchedule()
        : this(DefaultInterval)
    {
    }

    /// <summary>True when <see cref="Interval"/> or more has passed since <paramref name="lastPacketSent"/>.</summary>
    public bool IsDue(DateTimeOffset lastPacketSent, DateTimeOffset now) => Interval > TimeSpan.Zero && now - lastPacketSent >= Interval;

    /// <summary>When the next keepalive falls due if nothing else is sent.</summary>
    public DateTimeOffset DueAt(DateTimeOffset lastPacketSent) => lastPacketSent + Interval;
}
