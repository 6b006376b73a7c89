using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Tests;

public class StatisticsTests
{
    [Fact]
    public void Percentiles_of_one_to_a_thousand_microseconds_are_exact()
    {
        var stats = new StepStatistics("s");
        for (int us = 1; us <= 1000; us++) stats.Record(StepResult.Ok(10), TimeSpan.FromMicroseconds(us));
        var s = stats.Snapshot(TimeSpan.FromSeconds(2));
        Assert.Equal(1000, s.Ok);
        Assert.Equal(0, s.Failed);
        Assert.Equal(10_000, s.Bytes);
        Assert.Equal(500.0, s.Rps);
        Assert.Equal(0.001, s.MinMs, 6);
        Assert.Equal(0.5005, s.MeanMs, 4);
        Assert.Equal(0.500, s.P50Ms, 6);
        Assert.Equal(0.750, s.P75Ms, 6);
        Assert.Equal(0.950, s.P95Ms, 6);
        Assert.Equal(0.990, s.P99Ms, 6);
        Assert.Equal(1.000, s.MaxMs, 6);
    }

    [Fact]
    public void Large_latencies_keep_three_significant_digits()
    {
        var stats = new StepStatistics("s");
        stats.Record(StepResult.Ok(), TimeSpan.FromMilliseconds(123.456));
        var s = stats.Snapshot(TimeSpan.FromSeconds(1));
        Assert.InRange(s.P99Ms, 123.4, 123.6);
        Assert.InRange(s.MaxMs, 123.4, 123.6);
        Assert.Equal(123.456, s.MinMs, 3);
    }

    [Fact]
    public void Failures_count_with_their_status_and_stay_out_of_latencies()
    {
        var stats = new StepStatistics("s");
        stats.Record(StepResult.Ok(), TimeSpan.FromMilliseconds(2));
        stats.Record(StepResult.Fail("timeout"), TimeSpan.FromSeconds(10));
        stats.Record(StepResult.Fail("timeout"), TimeSpan.FromSeconds(10));
        stats.Record(StepResult.Fail("rejected"), TimeSpan.FromSeconds(10));
        var s = stats.Snapshot(TimeSpan.FromSeconds(1));
        Assert.Equal(1, s.Ok);
        Assert.Equal(3, s.Failed);
        Assert.Equal(75, s.FailPercent);
        Assert.Equal(4, s.Rps);
        Assert.Equal(2, s.Failures["timeout"]);
        Assert.Equal(1, s.Failures["rejected"]);
        Assert.InRange(s.MaxMs, 1.99, 2.01);
    }

    [Fact]
    public void No_invocations_give_zeros_and_an_empty_distribution()
    {
        var s = new StepStatistics("s").Snapshot(TimeSpan.Zero);
        Assert.Equal(0, s.Total);
        Assert.Equal(0, s.FailPercent);
        Assert.Equal(0, s.P99Ms);
        Assert.Equal(0, s.MinMs);
        Assert.Empty(s.Distribution);
    }

    [Fact]
    public void Concurrent_records_are_all_counted()
    {
        var stats = new StepStatistics("s");
        Parallel.For(0, 10_000, i => stats.Record(i % 10 == 0 ? StepResult.Fail("x", 1) : StepResult.Ok(1), TimeSpan.FromMicroseconds(i + 1)));
        var s = stats.Snapshot(TimeSpan.FromSeconds(1));
        Assert.Equal(9000, s.Ok);
        Assert.Equal(1000, s.Failed);
        Assert.Equal(10_000, s.Bytes);
    }
}
