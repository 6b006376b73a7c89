using KeyProxy.Ike.Protocol;
using KeyProxy.Primitives;

namespace KeyProxy.Fuzz.Support;

/// <summary>A clock that never moves: no retransmission or rekey timer fires during a fuzz input.</summary>
public sealed class FixedClock : IClock
{
    public static readonly DateTimeOffset Epoch = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly FixedClock Instance = new();

    public DateTimeOffset UtcNow => Epoch;
}
