using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Tests;

public class ThresholdTests
{
    [Theory]
    [InlineData("proxied-sa:p99<50ms", "proxied-sa", ThresholdMetric.P99, ThresholdOperator.Less, 50)]
    [InlineData("proxied-sa:p99 < 0.05s", "proxied-sa", ThresholdMetric.P99, ThresholdOperator.Less, 50)]
    [InlineData("attach:p50<=500us", "attach", ThresholdMetric.P50, ThresholdOperator.LessOrEqual, 0.5)]
    [InlineData("attach:mean<20", "attach", ThresholdMetric.Mean, ThresholdOperator.Less, 20)]
    [InlineData("proxied-sa:fail<1%", "proxied-sa", ThresholdMetric.FailPercent, ThresholdOperator.Less, 1)]
    [InlineData("proxied-sa:fail<=3", "proxied-sa", ThresholdMetric.Failed, ThresholdOperator.LessOrEqual, 3)]
    [InlineData("attach:rps>=100", "attach", ThresholdMetric.Rps, ThresholdOperator.GreaterOrEqual, 100)]
    [InlineData("attach:ok>199", "attach", ThresholdMetric.Ok, ThresholdOperator.Greater, 199)]
    public void Parses(string text, string target, ThresholdMetric metric, ThresholdOperator op, double value)
    {
        Assert.True(Threshold.TryParse(text, out var t, out var error), error);
        Assert.Equal(target, t!.Target);
        Assert.Equal(metric, t.Metric);
        Assert.Equal(op, t.Operator);
        Assert.Equal(value, t.Value, 9);
    }

    [Theory]
    [InlineData("p99<50ms", "expected TARGET:METRIC")]
    [InlineData("attach:p99=50ms", "no operator")]
    [InlineData("attach:p42<50ms", "unknown metric 'p42'")]
    [InlineData("attach:p99<fast", "not a time")]
    [InlineData("attach:fail<-1%", "not a non-negative number")]
    [InlineData(":p99<5", "expected TARGET:METRIC")]
    public void Rejects_with_a_message(string text, string expected)
    {
        Assert.False(Threshold.TryParse(text, out var t, out var error));
        Assert.Null(t);
        Assert.Contains(expected, error);
    }

    private static RunResult Run(StepStats step) =>
        new("t", DateTimeOffset.UnixEpoch, [new ScenarioStats("proxied-sa", "inject", TimeSpan.FromSeconds(1), step.Total, [step])]);

    private static StepStats Step(long ok, long failed, double p99) =>
        new("sa", ok, failed, 0, ok + failed, 1, 2, 3, 4, 5, p99, p99, [], new Dictionary<string, long>());

    [Fact]
    public void Holding_thresholds_give_no_violation()
    {
        var run = Run(Step(ok: 999, failed: 1, p99: 49.9));
        foreach (var text in new[] { "proxied-sa:p99<50ms", "proxied-sa:fail<1%", "sa:fail<=1", "sa:ok>=999" })
        {
            Assert.True(Threshold.TryParse(text, out var t, out _));
            Assert.Empty(t!.Evaluate(run));
        }
    }

    [Fact]
    public void Violations_name_the_step_and_the_measured_figure()
    {
        var run = Run(Step(ok: 98, failed: 2, p99: 73.25));
        Assert.True(Threshold.TryParse("proxied-sa:p99<50ms", out var p99, out _));
        Assert.Equal(["threshold 'proxied-sa:p99<50ms' violated: proxied-sa/sa p99 = 73.25 ms"], p99!.Evaluate(run));
        Assert.True(Threshold.TryParse("proxied-sa:fail<1%", out var fail, out _));
        Assert.Equal(["threshold 'proxied-sa:fail<1%' violated: proxied-sa/sa failed = 2%"], fail!.Evaluate(run));
    }

    [Fact]
    public void A_target_that_names_nothing_is_a_violation()
    {
        Assert.True(Threshold.TryParse("atach:p99<50ms", out var t, out _));
        var violation = Assert.Single(t!.Evaluate(Run(Step(1, 0, 1))));
        Assert.Contains("no scenario or step named 'atach'", violation);
    }
}
