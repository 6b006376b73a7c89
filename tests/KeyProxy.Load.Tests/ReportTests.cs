using KeyProxy.Load.Framework;
using KeyProxy.Load.Reports;

namespace KeyProxy.Load.Tests;

public class ReportTests
{
    private static RunResult Sample()
    {
        var stats = new StepStatistics("attach");
        for (int us = 1; us <= 1000; us++) stats.Record(StepResult.Ok(100), TimeSpan.FromMicroseconds(us * 10));
        stats.Record(StepResult.Fail("timeout"), TimeSpan.FromSeconds(1));
        var step = stats.Snapshot(TimeSpan.FromSeconds(4));
        return new RunResult("KeyProxy load <test>", DateTimeOffset.UnixEpoch,
            [new ScenarioStats("attach", "inject 250/s for 4s", TimeSpan.FromSeconds(4), 1001, [step])]);
    }

    [Fact]
    public void Writes_the_report_files_with_the_figures()
    {
        var dir = Path.Combine(Path.GetTempPath(), "keyproxy-load-report-" + Guid.NewGuid().ToString("N"));
        try
        {
            var files = ReportWriter.WriteAll(Sample(), dir);
            Assert.Equal(["report.md", "report.csv", "report-intervals.csv", "report.html"], files.Select(Path.GetFileName));
            var md = File.ReadAllText(Path.Combine(dir, "report.md"));
            // 10..10000 µs: p50 5 ms, p99 9.9 ms, max 10 ms, each reported as the highest value of its HdrHistogram bucket
            // (3 significant digits: buckets 4 µs wide from 4.096 ms, 8 µs from 8.192 ms); 1001 invocations over 4 s.
            Assert.Contains("| attach | 1000 | 1 | 0.1 | 250.3 | 0.010 | 5.006 | 5.003 | 7.503 | 9.503 | 9.903 | 10.007 | 100000 |", md);
            Assert.Contains("1 × timeout", md);
            Assert.Contains("inject 250/s for 4s", md);

            var csv = File.ReadAllLines(Path.Combine(dir, "report.csv"));
            Assert.Equal(CsvReport.Header, csv[0]);
            Assert.Equal("attach,attach,inject 250/s for 4s,4.00,1000,1,0.1,250.3,0.010,5.006,5.003,7.503,9.503,9.903,10.007,100000", csv[1]);

            var html = File.ReadAllText(Path.Combine(dir, "report.html"));
            Assert.Contains("<svg", html);
            Assert.Contains("<polyline", html);
            Assert.Contains("<td>9.903</td>", html);
            Assert.Contains("KeyProxy load &lt;test&gt;", html);
            Assert.DoesNotContain("<script", html);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Csv_quotes_fields_with_commas()
    {
        var run = Sample() with { };
        var s = run.Scenarios[0] with { Name = "a,\"b\"" };
        var csv = CsvReport.Render(run with { Scenarios = [s] });
        Assert.StartsWith("\"a,\"\"b\"\"\",attach,", csv.Split('\n')[1]);
    }
}
