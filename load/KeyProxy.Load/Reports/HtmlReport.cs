using System.Net;
using System.Text;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Reports;

/// <summary>
/// The run as one self-contained HTML page: the step tables and, per scenario, inline SVG charts of
/// each step's latency distribution (latency against percentile, HdrHistogram's usual plot) and of
/// each step's latency over time (p50 and p99 with the rate beside them). No scripts, no external assets.
/// </summary>
public static class HtmlReport
{
    private static readonly string[] Colours = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

    public static string Render(RunResult run)
    {
        var sb = new StringBuilder();
        sb.AppendLine("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.Append("<title>").Append(E(run.Title)).AppendLine("</title>");
        sb.AppendLine("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}td:first-child,th:first-child{text-align:left}svg{background:#fafafa;border:1px solid #ddd}</style>");
        sb.AppendLine("</head><body>");
        sb.Append("<h1>").Append(E(run.Title)).AppendLine("</h1>");
        sb.Append("<p>Started ").Append(E(run.StartedAt.ToString("u"))).AppendLine(". Latencies in ms over ok invocations.</p>");
        foreach (var s in run.Scenarios)
        {
            sb.Append("<h2>Scenario ").Append(E(s.Name)).AppendLine("</h2>");
            sb.Append("<p>Load: ").Append(E(s.Simulation)).Append("; ran ").Append(ReportFormat.Seconds(s.Duration)).Append(" s; ")
                .Append(s.Invocations).AppendLine(" invocations.</p>");
            sb.AppendLine("<table><tr><th>step</th><th>ok</th><th>failed</th><th>fail %</th><th>RPS</th><th>min</th><th>mean</th><th>p50</th><th>p75</th><th>p95</th><th>p99</th><th>max</th><th>bytes</th></tr>");
            foreach (var st in s.Steps)
            {
                sb.Append("<tr><td>").Append(E(st.Name)).Append("</td>");
                foreach (var cell in new[]
                {
                    st.Ok.ToString(), st.Failed.ToString(), ReportFormat.Percent(st.FailPercent), ReportFormat.Rate(st.Rps),
                    ReportFormat.Ms(st.MinMs), ReportFormat.Ms(st.MeanMs), ReportFormat.Ms(st.P50Ms), ReportFormat.Ms(st.P75Ms),
                    ReportFormat.Ms(st.P95Ms), ReportFormat.Ms(st.P99Ms), ReportFormat.Ms(st.MaxMs), st.Bytes.ToString(),
                })
                    sb.Append("<td>").Append(cell).Append("</td>");
                sb.AppendLine("</tr>");
            }
            sb.AppendLine("</table>");
            foreach (var st in s.Steps)
                if (st.Unit is { } unit)
                    sb.Append("<p><b>").Append(E(st.Name)).Append("</b>: ").Append(ReportFormat.Rate(st.Rps)).Append(' ').Append(E(unit))
                        .Append("/s (the step's RPS), p50 ").Append(ReportFormat.Ms(st.P50Ms)).Append(" ms, p99 ").Append(ReportFormat.Ms(st.P99Ms)).AppendLine(" ms.</p>");
            foreach (var st in s.Steps)
                foreach (var (status, count) in st.Failures)
                    sb.Append("<p>").Append(E(st.Name)).Append(" failed ").Append(count).Append(" × ").Append(E(status)).AppendLine("</p>");
            sb.Append("<h3>Latency distribution</h3>").AppendLine(Chart(s.Steps));
            foreach (var st in s.Steps)
                if (st.Intervals.Count > 0)
                    sb.Append("<h3>Over time: ").Append(E(st.Name)).Append("</h3>").AppendLine(TimelineChart(st));
        }
        sb.AppendLine("</body></html>");
        return sb.ToString();
    }

    /// <summary>
    /// Latency (y, ms) against percentile (x). The x axis is logarithmic in 1/(1 - p) like HdrHistogram plots,
    /// so the tail (p99, p99.9) gets room: x = log10(1 / (1 - p/100)), capped at p99.99.
    /// </summary>
    internal static string Chart(IReadOnlyList<StepStats> steps)
    {
        const int W = 720, H = 320, L = 60, R = 20, T = 20, B = 40;
        double maxMs = 0;
        foreach (var st in steps) foreach (var (_, ms) in st.Distribution) maxMs = Math.Max(maxMs, ms);
        if (maxMs <= 0) maxMs = 1;
        const double xMax = 4; // p99.99
        static double X(double p) => Math.Min(xMax, Math.Log10(1 / Math.Max(1e-4, 1 - p / 100)));
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"latency by percentile\">");
        sb.Append($"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"#333\"/><line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"#333\"/>");
        foreach (var (label, p) in new[] { ("0", 0.0), ("90", 90.0), ("99", 99.0), ("99.9", 99.9), ("100", 99.99) })
        {
            double x = L + X(p) / xMax * (W - L - R);
            sb.Append($"<text x=\"{F(x)}\" y=\"{H - B + 16}\" font-size=\"11\" text-anchor=\"middle\">p{label}</text>");
        }
        for (int i = 0; i <= 4; i++)
        {
            double v = maxMs * i / 4, y = H - B - (double)i / 4 * (H - T - B);
            sb.Append($"<text x=\"{L - 6}\" y=\"{F(y + 4)}\" font-size=\"11\" text-anchor=\"end\">{ReportFormat.Number(v)}</text>");
        }
        sb.Append($"<text x=\"{W / 2}\" y=\"{H - 6}\" font-size=\"12\" text-anchor=\"middle\">percentile</text>");
        sb.Append($"<text x=\"14\" y=\"{H / 2}\" font-size=\"12\" transform=\"rotate(-90 14 {H / 2})\" text-anchor=\"middle\">ms</text>");
        for (int s = 0; s < steps.Count; s++)
        {
            var colour = Colours[s % Colours.Length];
            var points = new StringBuilder();
            foreach (var (p, ms) in steps[s].Distribution)
            {
                double x = L + X(p) / xMax * (W - L - R), y = H - B - ms / maxMs * (H - T - B);
                points.Append(F(x)).Append(',').Append(F(y)).Append(' ');
            }
            sb.Append($"<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{points.ToString().TrimEnd()}\"/>");
            sb.Append($"<text x=\"{L + 10}\" y=\"{T + 14 + 14 * s}\" font-size=\"12\" fill=\"{colour}\">{E(steps[s].Name)}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>
    /// p50 and p99 (left axis, ms) and the rate of ok invocations (right axis, per second, grey) against seconds of load, one point
    /// per interval at its middle; an interval without an ok invocation has no latency and breaks the latency lines.
    /// </summary>
    internal static string TimelineChart(StepStats step)
    {
        const int W = 720, H = 280, L = 60, R = 60, T = 20, B = 40;
        var rows = step.Intervals;
        double end = (rows[^1].Start + rows[^1].Length).TotalSeconds, maxMs = 0, maxRate = 0;
        foreach (var r in rows) (maxMs, maxRate) = (Math.Max(maxMs, r.P99Ms), Math.Max(maxRate, r.OkRate));
        if (maxMs <= 0) maxMs = 1;
        if (maxRate <= 0) maxRate = 1;
        if (end <= 0) end = 1;
        double X(IntervalStats r) => L + (r.Start + r.Length / 2).TotalSeconds / end * (W - L - R);
        double Y(double v, double max) => H - B - v / max * (H - T - B);
        var sb = new StringBuilder();
        sb.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" role=\"img\" aria-label=\"{E(step.Name)} latency and rate over time\">");
        sb.Append($"<line x1=\"{L}\" y1=\"{H - B}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"#333\"/><line x1=\"{L}\" y1=\"{T}\" x2=\"{L}\" y2=\"{H - B}\" stroke=\"#333\"/><line x1=\"{W - R}\" y1=\"{T}\" x2=\"{W - R}\" y2=\"{H - B}\" stroke=\"#999\"/>");
        for (int i = 0; i <= 4; i++)
        {
            double y = Y(i / 4.0, 1);
            sb.Append($"<text x=\"{L - 6}\" y=\"{F(y + 4)}\" font-size=\"11\" text-anchor=\"end\">{ReportFormat.Number(maxMs * i / 4)}</text>");
            sb.Append($"<text x=\"{W - R + 6}\" y=\"{F(y + 4)}\" font-size=\"11\" fill=\"#777\">{ReportFormat.Number(maxRate * i / 4)}</text>");
            double x = L + i / 4.0 * (W - L - R);
            sb.Append($"<text x=\"{F(x)}\" y=\"{H - B + 16}\" font-size=\"11\" text-anchor=\"middle\">{ReportFormat.Number(end * i / 4)}</text>");
        }
        sb.Append($"<text x=\"{W / 2}\" y=\"{H - 6}\" font-size=\"12\" text-anchor=\"middle\">s of load</text>");
        sb.Append($"<text x=\"14\" y=\"{H / 2}\" font-size=\"12\" transform=\"rotate(-90 14 {H / 2})\" text-anchor=\"middle\">ms</text>");
        sb.Append($"<text x=\"{W - 10}\" y=\"{H / 2}\" font-size=\"12\" fill=\"#777\" transform=\"rotate(90 {W - 10} {H / 2})\" text-anchor=\"middle\">ok/s</text>");
        Line(sb, rows, r => true, r => Y(r.OkRate, maxRate), "#999", "rate");
        Line(sb, rows, r => r.Ok > 0, r => Y(r.P50Ms, maxMs), Colours[0], "p50");
        Line(sb, rows, r => r.Ok > 0, r => Y(r.P99Ms, maxMs), Colours[1], "p99");
        sb.Append($"<text x=\"{L + 10}\" y=\"{T + 14}\" font-size=\"12\" fill=\"{Colours[0]}\">p50</text>");
        sb.Append($"<text x=\"{L + 50}\" y=\"{T + 14}\" font-size=\"12\" fill=\"{Colours[1]}\">p99</text>");
        sb.Append($"<text x=\"{L + 90}\" y=\"{T + 14}\" font-size=\"12\" fill=\"#777\">ok/s</text>");
        sb.Append("</svg>");
        return sb.ToString();

        // One polyline per run of consecutive intervals that have a value.
        void Line(StringBuilder svg, IReadOnlyList<IntervalStats> all, Func<IntervalStats, bool> has, Func<IntervalStats, double> y, string colour, string name)
        {
            var points = new StringBuilder();
            foreach (var r in all)
            {
                if (has(r)) points.Append(F(X(r))).Append(',').Append(F(y(r))).Append(' ');
                else Flush();
            }
            Flush();

            void Flush()
            {
                if (points.Length > 0)
                    svg.Append($"<polyline class=\"{name}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{points.ToString().TrimEnd()}\"/>");
                points.Clear();
            }
        }
    }

    private static string F(double d) => d.ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
