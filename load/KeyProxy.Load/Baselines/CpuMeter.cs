using System.Diagnostics;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// CPU time spent by some processes while a scenario's load ran: read after its init, and again when the
/// load (with the runs in flight) is over, before its clean.
/// </summary>
public sealed class CpuMeter
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

    /// <summary><paramref name="scenario"/> with the readings around its load.</summary>
    public static Scenario Wrap(Scenario scenario, params CpuMeter[] meters) => scenario with
    {
        Init = async c =>
        {
            if (scenario.Init is { } init) await init(c);
            foreach (var m in meters) m._start = m._read();
        },
        Clean = async ct =>
        {
            foreach (var m in meters) m.Used = m._read() - m._start;
            if (scenario.Clean is { } clean) await clean(ct);
        },
    };
}
