using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Ike.Tests.Protocol;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : IClock
{
    public ManualClock() : this(new DateTimeOffset(2026, 11, 24, 12, 0, 0, TimeSpan.Zero)) { }

    public DateTimeOffset UtcNow { get; private set; } = start;

    public void Advance(TimeSpan by) => UtcNow += by;

    public void AdvanceTo(DateTimeOffset when)
    {
        if (when > UtcNow) UtcNow = when;
    }
}
