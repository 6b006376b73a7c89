using KeyProxy.Load.Framework;
using KeyProxy.Load.Reports;

namespace KeyProxy.Load.Tests;

/// <summary>Issue 17, item 1: every step's latency and rate per interval of the load, in every report.</summary>
public class IntervalTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Each_interval_has_its_own_percentiles_and_a_silent_interval_is_a_row_of_zeros()
    {
        var recorder = new IntervalRecorder(Second);
        for (int i = 0; i < 100; i++) recorder.Record(TimeSpan.FromMilliseconds(10 * i), ok: true, microseconds: 1000);
        recorder.Record(TimeSpan.FromMilliseconds(995), ok: false, microseconds: 5);
        // Nothing ends in [1 s, 2 s); in [2 s, 3 s) latencies of 1..100 ms.
        for (int ms = 1; ms <= 100; ms++) recorder.Record(TimeSpan.FromMilliseconds(2000 + ms), ok: true, microseconds: ms * 1000);

        var rows = recorder.Timeline(TimeSpan.FromMilliseconds(2500));

        Assert.Equal([TimeSpan.Zero, Second, 2 * Second], rows.Select(r => r.Start));
        Assert.Equal((100L, 1L, 101.0, 1.0, 1.0), (rows[0].Ok, rows[0].Failed, rows[0].Rps, rows[0].P50Ms, rows[0].P99Ms));
        Assert.Equal(new IntervalStats(Second, Second, 0, 0, 0, 0, 0, 0), rows[1]);
        // The last interval is cut where the load ended: 100 in half a second.
        Assert.Equal((TimeSpan.FromMilliseconds(500), 200.0), (rows[2].Length, rows[2].Rps));
        Assert.Equal((50.0, 90.0, 99.0, 100.0), (Math.Round(rows[2].P50Ms, 1), Math.Round(rows[2].P90Ms, 1), Math.Round(rows[2].P99Ms, 1), Math.Round(rows[2].MaxMs, 1)));
    }

    [Fact]
    public async Task The_runner_files_each_invocation_under_the_interval_it_ended_in()
    {
        // Closed model, one copy, each invocation 300 ms on the fake clock: they end at 0.3, 0.6, 0.9, 1.2, ... 3.0 s.
        var clock = new FakeLoadClock();
        var scenario = new Scenario("slow", [new Step("wait", _ => { clock.Advance(TimeSpan.FromMilliseconds(300)); return Task.FromResult(StepResult.Ok()); })]);
        var stats = await new ScenarioRunner(clock, Second).RunAsync(scenario, new KeepConstant(1, TimeSpan.FromSeconds(3)), TestContext.Current.CancellationToken);

        var intervals = stats.Steps[0].Intervals;
        Assert.Equal(10, stats.Steps[0].Ok);
        Assert.Equal([3L, 3L, 3L, 1L], intervals.Select(i => i.Ok));
        Assert.All(intervals, i => Assert.InRange(i.P99Ms, 299.9, 300.1));
    }

    private static RunResult WithGap()
    {
        // HdrHistogram (3 significant digits) reports 4 ms as 4.001 and 30 ms as 30.015, the top of their buckets.
        var stats = new StepStatistics("attach", Second);
        stats.Record(StepResult.Ok(), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(100));
        stats.Record(StepResult.Ok(), TimeSpan.FromMilliseconds(4), TimeSpan.FromMilliseconds(200));
        stats.Record(StepResult.Fail("timeout"), TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(1500));
        stats.Record(StepResult.Ok(), TimeSpan.FromMilliseconds(30), TimeSpan.FromMilliseconds(2100));
        var step = stats.Snapshot(TimeSpan.FromSeconds(3));
        return new RunResult("gap", DateTimeOffset.UnixEpoch, [new ScenarioStats("attach", "inject 1/s for 3s", TimeSpan.FromSeconds(3), 4, [step])]);
    }

    [Fact]
    public void Markdown_lists_every_interval_and_the_console_version_leaves_them_out()
    {
        var run = WithGap();
        var md = MarkdownReport.Render(run);
        Assert.Contains("Over time, `attach` (1.00 s intervals):", md);
        Assert.Contains("| 0.00 | 2 | 0 | 2.0 | 2.000 | 4.001 | 4.001 | 4.001 |", md);
        Assert.Contains("| 1.00 | 0 | 1 | 1.0 | 0.000 | 0.000 | 0.000 | 0.000 |", md);
        Assert.Contains("| 2.00 | 1 | 0 | 1.0 | 30.015 | 30.015 | 30.015 | 30.015 |", md);
        Assert.DoesNotContain("Over time", MarkdownReport.Render(run, intervals: false));
    }

    [Fact]
    public void The_intervals_csv_has_one_row_per_step_and_interval()
    {
        var csv = CsvReport.RenderIntervals(WithGap()).TrimEnd().Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Equal(
        [
            CsvReport.IntervalHeader,
            "attach,attach,0.00,1.00,2,0,2.0,2.000,4.001,4.001,4.001",
            "attach,attach,1.00,1.00,0,1,1.0,0.000,0.000,0.000,0.000",
            "attach,attach,2.00,1.00,1,0,1.0,30.015,30.015,30.015,30.015",
        ], csv);
    }

    [Fact]
    public void Html_plots_p50_p99_and_rate_against_time_and_an_interval_without_latency_breaks_the_latency_lines()
    {
        var html = HtmlReport.Render(WithGap());
        Assert.Contains("<h3>Over time: attach</h3>", html);
        var chart = HtmlReport.TimelineChart(WithGap().Scenarios[0].Steps[0]);
        Assert.Equal(2, Count(chart, "class=\"p50\""));
        Assert.Equal(2, Count(chart, "class=\"p99\""));
        Assert.Equal(1, Count(chart, "class=\"rate\""));
    }

    private static int Count(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
