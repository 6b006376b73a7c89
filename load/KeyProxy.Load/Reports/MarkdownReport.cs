using System.Text;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Reports;

/// <summary>The run as Markdown: one table of step figures per scenario, then failure statuses.</summary>
public static class MarkdownReport
{
    public static string Render(RunResult run)
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
}
