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
        Assert.Equal((0.0, 0.0), (rows[1].OkRate, rows[1].Rps));
        Assert.Equal(100.0, rows[0].OkRate);
        // The last interval is cut where the load ended: 100 in half a second.
        Assert.Equal((TimeSpan.FromMilliseconds(500), 200.0), (rows[2].Length, rows[2].Rps));
        Assert.Equal((50.0, 90.0, 99.0, 100.0), (Math.Round(rows[2].P50Ms, 1), Math.Round(rows[2].P90Ms, 1), Math.Round(rows[2].P99Ms, 1), Math.Round(rows[2].MaxMs, 1)));
    }

    [Fact]
    public async Task The_runner_files_each_invocation_under_the_interval_it_ended_in()
    {
        // Closed model, one copy, each invocation 300 ms on the fake clock: they end at 0.3, 0.6, 0.9, 1.2, ... 3.0 s;
        // an interval holds what ended in (start, end], so the one ending at 3.0 s, when the load ends, is in the third.
        var clock = new FakeLoadClock();
        var scenario = new Scenario("slow", [new Step("wait", _ => { clock.Advance(TimeSpan.FromMilliseconds(300)); return Task.FromResult(StepResult.Ok()); })]);
        var stats = await new ScenarioRunner(clock, Second).RunAsync(scenario, new KeepConstant(1, TimeSpan.FromSeconds(3)), TestContext.Current.CancellationToken);

        var intervals = stats.Steps[0].Intervals;
        Assert.Equal(10, stats.Steps[0].Ok);
        Assert.Equal([3L, 3L, 4L], intervals.Select(i => i.Ok));
        Assert.Equal(stats.Steps[0].Ok, intervals.Sum(i => i.Ok));
        Assert.All(intervals, i => Assert.InRange(i.P99Ms, 299.9, 300.1));
    }

    [Fact]
    public async Task Open_model_on_a_fake_clock_every_invocation_is_in_exactly_one_interval()
    {
        // 200 starts per second for 5 s; every 7th invocation fails; the step's latency is what the open model's
        // ticks advance the clock by while it runs (0 to a few ticks), so invocations end across interval edges.
        var clock = new FakeLoadClock();
        var scenario = new Scenario("open", [new Step("work", async ctx =>
        {
            await Task.Yield();
            return ctx.InvocationNumber % 7 == 3 ? StepResult.Fail("seventh") : StepResult.Ok();
        })]);
        var stats = await new ScenarioRunner(clock, Second).RunAsync(scenario, new InjectRate(200, TimeSpan.FromSeconds(5)), TestContext.Current.CancellationToken);

        var step = stats.Steps[0];
        Assert.Equal(1000, step.Total);
        Assert.Equal(1000 / 7 + (1000 % 7 > 3 ? 1 : 0), step.Failed);
        Assert.Equal([0.0, 1.0, 2.0, 3.0, 4.0], step.Intervals.Select(i => i.Start.TotalSeconds));
        Assert.Equal(step.Ok, step.Intervals.Sum(i => i.Ok));
        Assert.Equal(step.Failed, step.Intervals.Sum(i => i.Failed));
        Assert.Equal(step.Ok, Math.Round(step.Intervals.Sum(i => i.OkRate * i.Length.TotalSeconds)));
    }

    [Fact]
    public async Task An_interval_in_which_nothing_ends_is_a_row_with_zero_rate_and_zero_latency()
    {
        // One copy, each invocation 2.4 s on the fake clock: they end at 2.4 and 4.8 s; seconds 0, 1 and 3 see nothing.
        var clock = new FakeLoadClock();
        var scenario = new Scenario("stall", [new Step("wait", _ => { clock.Advance(TimeSpan.FromMilliseconds(2400)); return Task.FromResult(StepResult.Ok()); })]);
        var stats = await new ScenarioRunner(clock, Second).RunAsync(scenario, new KeepConstant(1, TimeSpan.FromSeconds(3)), TestContext.Current.CancellationToken);

        var rows = stats.Steps[0].Intervals;
        Assert.Equal([0L, 0L, 1L, 0L, 1L], rows.Select(r => r.Ok));
        foreach (int silent in new[] { 0, 1, 3 })
            Assert.Equal((0.0, 0.0, 0.0, 0.0), (rows[silent].OkRate, rows[silent].P50Ms, rows[silent].P99Ms, rows[silent].MaxMs));
        Assert.Equal((1.0, TimeSpan.FromMilliseconds(800)), (rows[2].OkRate, rows[4].Length));
        Assert.Equal(1.25, rows[4].OkRate); // one ok in the 0.8 s the last interval lasted
        Assert.All(new[] { rows[2], rows[4] }, r => Assert.InRange(r.P99Ms, 2399, 2401));
        var md = MarkdownReport.Render(new RunResult("stall", DateTimeOffset.UnixEpoch, [stats]));
        Assert.Contains("| 1.00 | 0.0 | 0 | 0 | 0.000 | 0.000 | 0.000 | 0.000 |", md);
        Assert.Contains("stall,wait,3.00,1.00,0,0,0.0,0.000,0.000,0.000,0.000", CsvReport.RenderIntervals(new RunResult("stall", DateTimeOffset.UnixEpoch, [stats])));
    }

    [Fact]
    public void Each_interval_has_the_percentiles_of_its_own_latencies_only()
    {
        // Second 0: 1..100 ms; second 1: 101..200 ms; second 2: 1000 x 5 ms and one 900 ms outlier. Recorded in shuffled order within each second.
        var stats = new StepStatistics("s", Second);
        var random = new Random(17);
        void Fill(int index, IEnumerable<int> latenciesMs)
        {
            var shuffled = latenciesMs.ToArray();
            random.Shuffle(shuffled);
            for (int i = 0; i < shuffled.Length; i++)
                stats.Record(StepResult.Ok(), TimeSpan.FromMilliseconds(shuffled[i]), TimeSpan.FromSeconds(index) + TimeSpan.FromMicroseconds(i + 1));
        }
        Fill(0, Enumerable.Range(1, 100));
        Fill(1, Enumerable.Range(101, 100));
        Fill(2, Enumerable.Repeat(5, 1000).Append(900));

        var rows = stats.Snapshot(TimeSpan.FromSeconds(3)).Intervals;
        // HdrHistogram with 3 significant digits gives the top of a value's bucket: within 0.1% above it.
        static void Near(double expected, double actual) => Assert.InRange(actual, expected, expected * 1.001);
        Near(50, rows[0].P50Ms); Near(99, rows[0].P99Ms); Near(100, rows[0].MaxMs);
        Near(150, rows[1].P50Ms); Near(199, rows[1].P99Ms); Near(200, rows[1].MaxMs);
        Near(5, rows[2].P50Ms); Near(5, rows[2].P99Ms); Near(900, rows[2].MaxMs);
        Assert.Equal([100L, 100L, 1001L], rows.Select(r => r.Ok));
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
        Assert.Contains("| from s | ok/s | ok | failed | p50 | p90 | p99 | max |", md);
        Assert.Contains("| 0.00 | 2.0 | 2 | 0 | 2.000 | 4.001 | 4.001 | 4.001 |", md);
        Assert.Contains("| 1.00 | 0.0 | 0 | 1 | 0.000 | 0.000 | 0.000 | 0.000 |", md);
        Assert.Contains("| 2.00 | 1.0 | 1 | 0 | 30.015 | 30.015 | 30.015 | 30.015 |", md);
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
            "attach,attach,1.00,1.00,0,1,0.0,0.000,0.000,0.000,0.000",
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
