using System.Diagnostics;

namespace KeyProxy.Load.Framework;

/// <summary>The runner's time: elapsed time since its start and a delay, so scheduling can be tested with a fake clock.</summary>
public interface ILoadClock
{
    /// <summary>Monotonic time since the clock started.</summary>
    TimeSpan Elapsed { get; }

    Task Delay(TimeSpan delay, CancellationToken ct);
}

/// <summary>The real clock: <see cref="Stopwatch"/> time (sub-microsecond) and <see cref="Task.Delay(TimeSpan, CancellationToken)"/>.</summary>
public sealed class SystemLoadClock : ILoadClock
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);

    public Task Delay(TimeSpan delay, CancellationToken ct) =>
        delay <= TimeSpan.Zero ? Task.CompletedTask : Task.Delay(delay, ct);
}
