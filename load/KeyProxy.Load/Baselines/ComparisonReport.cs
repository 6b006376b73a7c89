using System.Globalization;
using System.Text;
using KeyProxy.Load.Framework;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// One measured system in a comparison: its figures over the load phase. <see cref="CpuSeconds"/> is the CPU of
/// the system under test (the silo for the proxy, the load process for engine-sa, both charons for charon to
/// charon); <see cref="HandsetCpuSeconds"/> and <see cref="PeerCpuSeconds"/> split off the handset side and the
/// responder side where they were measured apart.
/// </summary>
public sealed record ComparisonRow(
    string DhGroup, string System, long Ok, long Failed, TimeSpan Duration, double P50Ms, double P99Ms,
    double CpuSeconds, string CpuOf, double? HandsetCpuSeconds = null, double? PeerCpuSeconds = null)
{
    /// <summary>Grain calls the silo received over the load (proxied rows only), in all and by "Interface.Method".</summary>
    public long? GrainCalls { get; init; }

    public IReadOnlyDictionary<string, long> GrainCallsByMethod { get; init; } = new Dictionary<string, long>();

    /// <summary>Bytes the silo process allocated over the load (proxied rows only).</summary>
    public long? AllocatedBytes { get; init; }

    public double? GrainCallsPerSa => GrainCalls is { } c && Ok > 0 ? (double)c / Ok : null;

    public double? AllocatedKiBPerSa => AllocatedBytes is { } b && Ok > 0 ? b / 1024.0 / Ok : null;

    public const string Proxied = "proxied-sa";
    public const string Engine = "engine-sa";
    public const string Charon = "charon-to-charon";

    /// <summary>Established SAs per second of load (0 for an empty run).</summary>
    public double SasPerSecond => Duration > TimeSpan.Zero ? Ok / Duration.TotalSeconds : 0;

    /// <summary>CPU milliseconds per established SA (NaN with none).</summary>
    public double CpuMsPerSa => PerSa(CpuSeconds);

    public double? HandsetCpuMsPerSa => HandsetCpuSeconds is { } s ? PerSa(s) : null;

    public double? PeerCpuMsPerSa => PeerCpuSeconds is { } s ? PerSa(s) : null;

    private double PerSa(double seconds) => Ok > 0 ? seconds * 1000 / Ok : double.NaN;

    /// <summary>The row for one scenario's single step, with the silo's grain calls and allocation where they were read.</summary>
    public static ComparisonRow From(string group, string system, ScenarioStats stats, TimeSpan cpu, string cpuOf,
        TimeSpan? handsetCpu = null, TimeSpan? peerCpu = null, GrainCallMeter? calls = null)
    {
        var step = stats.Steps[0];
        return new(group, system, step.Ok, step.Failed, stats.Duration, step.P50Ms, step.P99Ms, cpu.TotalSeconds, cpuOf,
            handsetCpu?.TotalSeconds, peerCpu?.TotalSeconds)
        {
            GrainCalls = calls?.Calls, GrainCallsByMethod = calls?.ByMethod ?? new Dictionary<string, long>(), AllocatedBytes = calls?.AllocatedBytes,
        };
    }
}

/// <summary>The ratios of one DH group: proxied against each baseline (NaN where a side is missing or zero).</summary>
public sealed record ComparisonRatios(string DhGroup, double RateProxiedToCharon, double RateProxiedToEngine,
    double CpuProxiedToCharon, double CpuProxiedToEngine, double HandsetCpuProxiedToEngine);

/// <summary><c>compare.md</c> and <c>compare.csv</c>: the rows and, per DH group, the ratios proxied/charon and proxied/engine.</summary>
public static class ComparisonReport
{
    public static IReadOnlyList<ComparisonRatios> Ratios(IReadOnlyList<ComparisonRow> rows)
    {
        var result = new List<ComparisonRatios>();
        var groups = new List<string>();
        foreach (var r in rows) if (!groups.Contains(r.DhGroup)) groups.Add(r.DhGroup);
        foreach (var g in groups)
        {
            ComparisonRow? proxied = null, engine = null, charon = null;
            foreach (var r in rows)
            {
                if (r.DhGroup != g) continue;
                if (r.System == ComparisonRow.Proxied) proxied = r;
                else if (r.System == ComparisonRow.Engine) engine = r;
                else if (r.System == ComparisonRow.Charon) charon = r;
            }
            result.Add(new ComparisonRatios(g,
                Ratio(proxied?.SasPerSecond, charon?.SasPerSecond),
                Ratio(proxied?.SasPerSecond, engine?.SasPerSecond),
                Ratio(proxied?.CpuMsPerSa, charon?.CpuMsPerSa),
                Ratio(proxied?.CpuMsPerSa, engine?.CpuMsPerSa),
                Ratio(proxied?.HandsetCpuMsPerSa, engine?.HandsetCpuMsPerSa)));
        }
        return result;
    }

    /// <summary>a / b; NaN when either is missing, not finite, or b is zero.</summary>
    public static double Ratio(double? a, double? b) =>
        a is { } x && b is { } y && double.IsFinite(x) && double.IsFinite(y) && y != 0 ? x / y : double.NaN;

    public static string RenderCsv(IReadOnlyList<ComparisonRow> rows)
    {
        var sb = new StringBuilder("dh_group,system,ok,failed,duration_s,sas_per_s,p50_ms,p99_ms,cpu_s,cpu_ms_per_sa,cpu_of,handset_cpu_ms_per_sa,peer_cpu_ms_per_sa,grain_calls_per_sa,allocated_kib_per_sa\n");
        foreach (var r in rows)
            sb.Append(CultureInfo.InvariantCulture,
                $"{r.DhGroup},{r.System},{r.Ok},{r.Failed},{r.Duration.TotalSeconds:F3},{r.SasPerSecond:F1},{r.P50Ms:F2},{r.P99Ms:F2},{r.CpuSeconds:F3},{N(r.CpuMsPerSa)},\"{r.CpuOf}\",{N(r.HandsetCpuMsPerSa)},{N(r.PeerCpuMsPerSa)},{N(r.GrainCallsPerSa)},{N(r.AllocatedKiBPerSa)}\n");
        sb.Append('\n').Append("dh_group,rate_proxied_to_charon,rate_proxied_to_engine,cpu_per_sa_proxied_to_charon,cpu_per_sa_proxied_to_engine,handset_cpu_per_sa_proxied_to_engine\n");
        foreach (var q in Ratios(rows))
            sb.Append(CultureInfo.InvariantCulture,
                $"{q.DhGroup},{N(q.RateProxiedToCharon)},{N(q.RateProxiedToEngine)},{N(q.CpuProxiedToCharon)},{N(q.CpuProxiedToEngine)},{N(q.HandsetCpuProxiedToEngine)}\n");
        return sb.ToString();
    }

    public static string RenderMarkdown(IReadOnlyList<ComparisonRow> rows, string method)
    {
        var sb = new StringBuilder("# KeyProxy load: proxied SAs against the baselines\n\n");
        sb.Append(method.TrimEnd()).Append("\n\n");
        sb.Append("| DH group | system | ok | failed | SAs/s | p50 ms | p99 ms | CPU ms/SA | CPU of | handset CPU ms/SA | peer CPU ms/SA |\n");
        sb.Append("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|\n");
        foreach (var r in rows)
            sb.Append(CultureInfo.InvariantCulture,
                $"| {r.DhGroup} | {r.System} | {r.Ok} | {r.Failed} | {r.SasPerSecond:F1} | {r.P50Ms:F1} | {r.P99Ms:F1} | {N(r.CpuMsPerSa)} | {r.CpuOf} | {N(r.HandsetCpuMsPerSa)} | {N(r.PeerCpuMsPerSa)} |\n");
        sb.Append("\n## Ratios\n\n| DH group | SAs/s proxied / charon | SAs/s proxied / engine | CPU/SA proxied / charon | CPU/SA proxied / engine | handset CPU/SA proxied / engine |\n");
        sb.Append("|---|---:|---:|---:|---:|---:|\n");
        foreach (var q in Ratios(rows))
            sb.Append(CultureInfo.InvariantCulture,
                $"| {q.DhGroup} | {N(q.RateProxiedToCharon)} | {N(q.RateProxiedToEngine)} | {N(q.CpuProxiedToCharon)} | {N(q.CpuProxiedToEngine)} | {N(q.HandsetCpuProxiedToEngine)} |\n");
        GrainCalls(sb, rows);
        return sb.ToString();
    }

    /// <summary>Per proxied SA: the grain calls the silo received, by method, and the bytes it allocated.</summary>
    private static void GrainCalls(StringBuilder sb, IReadOnlyList<ComparisonRow> rows)
    {
        var measured = new List<ComparisonRow>();
        foreach (var r in rows) if (r.GrainCalls is not null && r.Ok > 0) measured.Add(r);
        if (measured.Count == 0) return;
        sb.Append("\n## Grain calls and allocation per proxied SA (silo, load phase)\n\n| DH group | grain calls/SA | allocated KiB/SA | by method |\n|---|---:|---:|---|\n");
        foreach (var r in measured)
        {
            var methods = new StringBuilder();
            foreach (var (method, count) in r.GrainCallsByMethod)
                methods.Append(methods.Length > 0 ? ", " : "").Append(CultureInfo.InvariantCulture, $"{method} {(double)count / r.Ok:F2}");
            sb.Append(CultureInfo.InvariantCulture, $"| {r.DhGroup} | {N(r.GrainCallsPerSa)} | {N(r.AllocatedKiBPerSa)} | {methods} |\n");
        }
    }

    private static string N(double? v) => v is { } x && double.IsFinite(x) ? x.ToString("F2", CultureInfo.InvariantCulture) : "";
}
