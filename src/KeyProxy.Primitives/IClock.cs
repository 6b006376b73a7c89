namespace KeyProxy.Primitives;

/// <summary>Time comes in from the host: the engine never reads a real clock (sans-IO).</summary>
public interface IClock
{
    DateTimeOffset UtcNow { get; }
}

/// <summary>The wall clock, for hosts.</summary>
public sealed class SystemClock : IClock
{
    public static readonly SystemClock Instance = new();

    public DateTimeOffset UtcNow => DateTimeOffset.UtcNow;
}
