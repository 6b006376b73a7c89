using System.Text;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Reports;

/// <summary>
/// The run as Markdown: one table of step figures per scenario, each step's latency over time (unless
/// <c>intervals</c> is off, as on the console), then failure statuses.
/// </summary>
public static class MarkdownReport
{
    public static string Render(RunResult run, bool intervals = true)
    {
        var sb = new StringBuilder();
        sb.Append("# ").AppendLine(run.Title).AppendLine();
        sb.Append("Started ").Append(run.StartedAt.ToString("u")).AppendLine(". Latencies in ms over ok invocations; RPS counts ok and failed.").AppendLine();
        foreach (var s in run.Scenarios)
        {
            sb.Append("## Scenario ").AppendLine(s.Name).AppendLine();
            sb.Append("Load: ").Append(s.Simulation).Append("; ran ").Append(ReportFormat.Seconds(s.Duration)).Append(" s; ")
                .Append(s.Invocations).AppendLine(" invocations.").AppendLine();
            sb.AppendLine("| step | ok | failed | fail % | RPS | min | mean | p50 | p75 | p95 | p99 | max | bytes |");
            sb.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var st in s.Steps)
                sb.Append("| ").Append(st.Name).Append(" | ").Append(st.Ok).Append(" | ").Append(st.Failed).Append(" | ")
                    .Append(ReportFormat.Percent(st.FailPercent)).Append(" | ").Append(ReportFormat.Rate(st.Rps)).Append(" | ")
                    .Append(ReportFormat.Ms(st.MinMs)).Append(" | ").Append(ReportFormat.Ms(st.MeanMs)).Append(" | ")
                    .Append(ReportFormat.Ms(st.P50Ms)).Append(" | ").Append(ReportFormat.Ms(st.P75Ms)).Append(" | ")
                    .Append(ReportFormat.Ms(st.P95Ms)).Append(" | ").Append(ReportFormat.Ms(st.P99Ms)).Append(" | ")
                    .Append(ReportFormat.Ms(st.MaxMs)).Append(" | ").Append(st.Bytes).AppendLine(" |");
            sb.AppendLine();
            foreach (var st in s.Steps)
                if (st.Unit is { } unit)
                    sb.Append("`").Append(st.Name).Append("`: ").Append(ReportFormat.Rate(st.Rps)).Append(' ').Append(unit)
                        .Append("/s (the step's RPS), p50 ").Append(ReportFormat.Ms(st.P50Ms)).Append(" ms, p99 ").Append(ReportFormat.Ms(st.P99Ms)).AppendLine(" ms.").AppendLine();
            if (intervals)
                foreach (var st in s.Steps)
                    Timeline(sb, st);
            foreach (var st in s.Steps)
            {
                if (st.Failures.Count == 0) continue;
                sb.Append("Failures of `").Append(st.Name).AppendLine("`:").AppendLine();
                foreach (var (status, count) in st.Failures.OrderByDescending(f => f.Value))
                    sb.Append("- ").Append(count).Append(" × ").AppendLine(status);
                sb.AppendLine();
            }
        }
        return sb.ToString();
    }

    /// <summary>Latency over time: one row per interval of the load (ok/s, the ok and failed counts, the ok latencies), a stall showing as a row of zeros.</summary>
    private static void Timeline(StringBuilder sb, StepStats st)
    {
        if (st.Intervals.Count == 0) return;
        sb.Append("Over time, `").Append(st.Name).Append("` (").Append(ReportFormat.Seconds(st.Intervals[0].Length)).AppendLine(" s intervals):").AppendLine();
        sb.AppendLine("| from s | ok/s | ok | failed | p50 | p90 | p99 | max |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var i in st.Intervals)
            sb.Append("| ").Append(ReportFormat.Seconds(i.Start)).Append(" | ").Append(ReportFormat.Rate(i.OkRate)).Append(" | ")
                .Append(i.Ok).Append(" | ").Append(i.Failed).Append(" | ").Append(ReportFormat.Ms(i.P50Ms)).Append(" | ").Append(ReportFormat.Ms(i.P90Ms)).Append(" | ")
                .Append(ReportFormat.Ms(i.P99Ms)).Append(" | ").Append(ReportFormat.Ms(i.MaxMs)).AppendLine(" |");
        sb.AppendLine();
    }
}
