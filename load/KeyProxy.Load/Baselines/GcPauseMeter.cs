namespace KeyProxy.Load.Baselines;

/// <summary>
/// This process's garbage collections over a scenario's load phase (<see cref="LoadPhase.Measure"/>): how many,
/// and how long the runtime held its threads paused for them. The simulated handsets live in this process, so a
/// pause here delays what they measure.
/// </summary>
public sealed class GcPauseMeter : ILoadPhaseMeter
{
    private (int Gen0, int Gen1, int Gen2, TimeSpan Pause) _start;

    public int Collections { get; private set; }

    public int Gen1Collections { get; private set; }

    public int Gen2Collections { get; private set; }

    public TimeSpan Paused { get; private set; }

    public Task StartAsync(CancellationToken ct)
    {
        _start = Read();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct)
    {
        var end = Read();
        (Collections, Gen1Collections, Gen2Collections, Paused) = (end.Gen0 - _start.Gen0, end.Gen1 - _start.Gen1, end.Gen2 - _start.Gen2, end.Pause - _start.Pause);
        return Task.CompletedTask;
    }

    public override string ToString() =>
        $"{Collections} collections ({Gen1Collections} gen1, {Gen2Collections} gen2), paused {Paused.TotalMilliseconds:F0} ms";

    private static (int Gen0, int Gen1, int Gen2, TimeSpan Pause) Read() => (GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2), GC.GetTotalPauseDuration());
}
