using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Reports;

/// <summary>
/// Writes the reports (report.md, report.csv, report.html, and the latency over time as report-intervals.csv)
/// into a directory, creating it.
/// </summary>
public static class ReportWriter
{
    public static IReadOnlyList<string> WriteAll(RunResult run, string directory)
    {
        Directory.CreateDirectory(directory);
        var files = new[]
        {
            (Path.Combine(directory, "report.md"), MarkdownReport.Render(run)),
            (Path.Combine(directory, "report.csv"), CsvReport.Render(run)),
            (Path.Combine(directory, "report-intervals.csv"), CsvReport.RenderIntervals(run)),
            (Path.Combine(directory, "report.html"), HtmlReport.Render(run)),
        };
        foreach (var (path, text) in files) File.WriteAllText(path, text);
        return [.. files.Select(f => f.Item1)];
    }
}
