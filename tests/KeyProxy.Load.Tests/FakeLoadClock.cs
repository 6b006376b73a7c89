using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Tests;

/// <summary>A clock that only moves when someone waits on it: a delay advances time at once.</summary>
internal sealed class FakeLoadClock : ILoadClock
{
    private long _ticks;

    public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

    public Task Delay(TimeSpan delay, CancellationToken ct)
    {
        Advance(delay);
        return Task.CompletedTask;
    }
}
