using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// One silo over a load phase (<c>proxied-sa --meter-silo PID[=API]</c>, issue 17 item 4: CPU per SA and grain calls per
/// SA on each silo of a cluster): its process CPU from /proc, the phase's wall time, and with an admin API the grain
/// calls it received (GET /api/grain-calls).
/// </summary>
public sealed class SiloPhaseMeter : ILoadPhaseMeter
{
    private readonly CpuMeter _cpu;
    private readonly GrainCallMeter? _calls;
    private readonly Stopwatch _wall = new();

    public SiloPhaseMeter(int pid, Uri? api, Func<TimeSpan>? readCpu = null)
    {
        Pid = pid;
        _cpu = new CpuMeter(readCpu ?? (() => ProcessCpu.Read(pid) ?? TimeSpan.Zero));
        _calls = api is null ? null : new GrainCallMeter(api);
    }

    public int Pid { get; }

    /// <summary>The silo's CPU time over the phase.</summary>
    public TimeSpan Cpu => _cpu.Used;

    /// <summary>The phase's wall time, from the first CPU reading to the last.</summary>
    public TimeSpan Wall => _wall.Elapsed;

    /// <summary>Grain calls the silo received over the phase; null without an API.</summary>
    public long? Calls => _calls?.Calls;

    /// <summary>"PID" or "PID=URL" (the silo's HTTP base address, as --api takes it).</summary>
    public static bool TryParse(string text, out int pid, out Uri? api)
    {
        api = null;
        var parts = text.Split('=', 2);
        if (!int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out pid) || pid < 1) return false;
        if (parts.Length == 1) return true;
        if (!Uri.TryCreate(parts[1], UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)) return false;
        api = new Uri(uri.AbsoluteUri.TrimEnd('/') + "/");
        return true;
    }

    public async Task StartAsync(CancellationToken ct)
    {
        // The HTTP reading first: the CPU window then holds none of its wait.
        if (_calls is not null) await _calls.StartAsync(ct);
        await _cpu.StartAsync(ct);
        _wall.Restart();
    }

    public async Task StopAsync(CancellationToken ct)
    {
        _wall.Stop();
        await _cpu.StopAsync(ct);
        // The grain call meter waits for the last calls to settle; the CPU window ends before that wait.
        if (_calls is not null) await _calls.StopAsync(ct);
    }

    /// <summary>One line for scripts: "silo PID: cpu_s X wall_s Y calls Z", then the calls by method when counted.</summary>
    public string Describe()
    {
        var text = new StringBuilder(string.Create(CultureInfo.InvariantCulture,
            $"silo {Pid}: cpu_s {Cpu.TotalSeconds:F3} wall_s {Wall.TotalSeconds:F3} calls {(Calls is { } c ? c.ToString(CultureInfo.InvariantCulture) : "-")}"));
        if (_calls is not null)
            foreach (var (method, count) in _calls.ByMethod)
                text.Append(CultureInfo.InvariantCulture, $"\n  silo {Pid} calls {method} {count}");
        return text.ToString();
    }
}
