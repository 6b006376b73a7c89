using System.Diagnostics;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Baselines;

/// <summary>CPU time spent by some processes while a scenario's load ran (<see cref="LoadPhase.Measure"/>).</summary>
public sealed class CpuMeter : ILoadPhaseMeter
{
    private readonly Func<TimeSpan> _read;
    private TimeSpan _start;

    public CpuMeter(Func<TimeSpan> read) => _read = read;

    /// <summary>This process's CPU time.</summary>
    public static CpuMeter Self() => new(() => { using var p = Process.GetCurrentProcess(); return p.TotalProcessorTime; });

    /// <summary>The summed CPU time of the processes <paramref name="pids"/> returns (read from /proc each time).</summary>
    public static CpuMeter Of(Func<IEnumerable<int>> pids) => new(() => ProcessCpu.Sum(pids()));

    /// <summary>CPU time over the load; zero until the load ended.</summary>
    public TimeSpan Used { get; private set; }

    public Task StartAsync(CancellationToken ct)
    {
        _start = _read();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken ct)
    {
        Used = _read() - _start;
        return Task.CompletedTask;
    }
}
