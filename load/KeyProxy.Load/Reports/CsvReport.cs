using System.Text;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Reports;

/// <summary>The run as CSV (RFC 4180): one row per step, latencies in ms; the intervals in a file of their own.</summary>
public static class CsvReport
{
    public const string Header = "scenario,step,simulation,duration_s,ok,failed,fail_percent,rps,min_ms,mean_ms,p50_ms,p75_ms,p95_ms,p99_ms,max_ms,bytes";

    public static string Render(RunResult run)
    {
        var sb = new StringBuilder().AppendLine(Header);
        foreach (var s in run.Scenarios)
            foreach (var st in s.Steps)
                sb.AppendJoin(',', Quote(s.Name), Quote(st.Name), Quote(s.Simulation), ReportFormat.Seconds(s.Duration), st.Ok, st.Failed,
                    ReportFormat.Percent(st.FailPercent), ReportFormat.Rate(st.Rps), ReportFormat.Ms(st.MinMs), ReportFormat.Ms(st.MeanMs),
                    ReportFormat.Ms(st.P50Ms), ReportFormat.Ms(st.P75Ms), ReportFormat.Ms(st.P95Ms), ReportFormat.Ms(st.P99Ms),
                    ReportFormat.Ms(st.MaxMs), st.Bytes).AppendLine();
        return sb.ToString();
    }

    public const string IntervalHeader = "scenario,step,start_s,length_s,ok,failed,ok_per_s,p50_ms,p90_ms,p99_ms,max_ms";

    /// <summary>
    /// Latency over time as CSV in long format (report-intervals.csv): one row per scenario, step and interval of the
    /// load, in time order; an interval in which nothing ended is a row of zeros.
    /// </summary>
    public static string RenderIntervals(RunResult run)
    {
        var sb = new StringBuilder().AppendLine(IntervalHeader);
        foreach (var s in run.Scenarios)
            foreach (var st in s.Steps)
                foreach (var i in st.Intervals)
                    sb.AppendJoin(',', Quote(s.Name), Quote(st.Name), ReportFormat.Seconds(i.Start), ReportFormat.Seconds(i.Length), i.Ok, i.Failed,
                        ReportFormat.Rate(i.OkRate), ReportFormat.Ms(i.P50Ms), ReportFormat.Ms(i.P90Ms), ReportFormat.Ms(i.P99Ms), ReportFormat.Ms(i.MaxMs)).AppendLine();
        return sb.ToString();
    }

    private static string Quote(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
