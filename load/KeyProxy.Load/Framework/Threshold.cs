using System.Globalization;

namespace KeyProxy.Load.Framework;

/// <summary>The figure a threshold looks at.</summary>
public enum ThresholdMetric { Min, Mean, P50, P75, P95, P99, Max, FailPercent, Failed, Ok, Rps }

public enum ThresholdOperator { Less, LessOrEqual, Greater, GreaterOrEqual }

/// <summary>
/// A pass condition from the command line: <c>TARGET:METRIC OP VALUE</c>, e.g. <c>proxied-sa:p99&lt;50ms</c>
/// or <c>attach:fail&lt;1%</c>. TARGET names a scenario (every one of its steps must pass) or a step.
/// Metrics: min, mean, p50, p75, p95, p99, max (a time: us, ms (default) or s), fail (a percentage with
/// <c>%</c>, else a count), ok (a count), rps. Operators: &lt;, &lt;=, &gt;, &gt;=.
/// </summary>
public sealed record Threshold(string Text, string Target, ThresholdMetric Metric, ThresholdOperator Operator, double Value)
{
    /// <summary>Parses one threshold; on failure <paramref name="error"/> says what is wrong.</summary>
    public static bool TryParse(string text, out Threshold? threshold, out string? error)
    {
        threshold = null;
        error = null;
        int colon = text.LastIndexOf(':');
        if (colon <= 0)
        {
            error = $"threshold '{text}': expected TARGET:METRIC<VALUE, e.g. attach:p99<50ms";
            return false;
        }
        string target = text[..colon].Trim(), condition = text[(colon + 1)..].Replace(" ", "", StringComparison.Ordinal);
        int opAt = condition.IndexOfAny(['<', '>']);
        if (opAt <= 0)
        {
            error = $"threshold '{text}': no operator (<, <=, >, >=) after a metric";
            return false;
        }
        bool orEqual = opAt + 1 < condition.Length && condition[opAt + 1] == '=';
        var op = (condition[opAt], orEqual) switch
        {
            ('<', false) => ThresholdOperator.Less,
            ('<', true) => ThresholdOperator.LessOrEqual,
            ('>', false) => ThresholdOperator.Greater,
            _ => ThresholdOperator.GreaterOrEqual,
        };
        string metricText = condition[..opAt].ToLowerInvariant(), valueText = condition[(opAt + (orEqual ? 2 : 1))..].ToLowerInvariant();
        ThresholdMetric? metric = metricText switch
        {
            "min" => ThresholdMetric.Min, "mean" => ThresholdMetric.Mean, "p50" => ThresholdMetric.P50, "p75" => ThresholdMetric.P75,
            "p95" => ThresholdMetric.P95, "p99" => ThresholdMetric.P99, "max" => ThresholdMetric.Max,
            "fail" => valueText.EndsWith('%') ? ThresholdMetric.FailPercent : ThresholdMetric.Failed,
            "ok" => ThresholdMetric.Ok, "rps" => ThresholdMetric.Rps,
            _ => null,
        };
        if (metric is null)
        {
            error = $"threshold '{text}': unknown metric '{metricText}' (min, mean, p50, p75, p95, p99, max, fail, ok, rps)";
            return false;
        }
        double scale = 1;
        string number = valueText;
        if (IsTime(metric.Value))
        {
            if (number.EndsWith("ms", StringComparison.Ordinal)) number = number[..^2];
            else if (number.EndsWith("us", StringComparison.Ordinal)) (number, scale) = (number[..^2], 0.001);
            else if (number.EndsWith('s')) (number, scale) = (number[..^1], 1000);
        }
        else if (metric == ThresholdMetric.FailPercent) number = number[..^1];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value < 0 || double.IsInfinity(value))
        {
            error = $"threshold '{text}': '{valueText}' is not a {(IsTime(metric.Value) ? "time like 50ms" : "non-negative number")}";
            return false;
        }
        if (target.Length == 0)
        {
            error = $"threshold '{text}': no target (scenario or step name) before ':'";
            return false;
        }
        threshold = new Threshold(text, target, metric.Value, op, value * scale);
        return true;
    }

    private static bool IsTime(ThresholdMetric m) => m <= ThresholdMetric.Max;

    /// <summary>The figure of <paramref name="step"/> this threshold looks at (times in ms).</summary>
    public double Measure(StepStats step) => Metric switch
    {
        ThresholdMetric.Min => step.MinMs,
        ThresholdMetric.Mean => step.MeanMs,
        ThresholdMetric.P50 => step.P50Ms,
        ThresholdMetric.P75 => step.P75Ms,
        ThresholdMetric.P95 => step.P95Ms,
        ThresholdMetric.P99 => step.P99Ms,
        ThresholdMetric.Max => step.MaxMs,
        ThresholdMetric.FailPercent => step.FailPercent,
        ThresholdMetric.Failed => step.Failed,
        ThresholdMetric.Ok => step.Ok,
        _ => step.Rps,
    };

    public bool Holds(double measured) => Operator switch
    {
        ThresholdOperator.Less => measured < Value,
        ThresholdOperator.LessOrEqual => measured <= Value,
        ThresholdOperator.Greater => measured > Value,
        _ => measured >= Value,
    };

    /// <summary>
    /// Checks this threshold against a run; returns one message per violation (empty when it holds). A target
    /// that names no scenario or step is a violation too, so a typo never passes silently.
    /// </summary>
    public IReadOnlyList<string> Evaluate(RunResult run)
    {
        var violations = new List<string>();
        bool found = false;
        foreach (var scenario in run.Scenarios)
            foreach (var step in scenario.Steps)
            {
                if (scenario.Name != Target && step.Name != Target) continue;
                found = true;
                double measured = Measure(step);
                if (!Holds(measured))
                    violations.Add($"threshold '{Text}' violated: {scenario.Name}/{step.Name} {Describe(measured)}");
            }
        if (!found) violations.Add($"threshold '{Text}': no scenario or step named '{Target}' in this run");
        return violations;
    }

    private string Describe(double measured) => Metric switch
    {
        <= ThresholdMetric.Max => $"{Metric.ToString().ToLowerInvariant()} = {measured.ToString("0.###", CultureInfo.InvariantCulture)} ms",
        ThresholdMetric.FailPercent => $"failed = {measured.ToString("0.##", CultureInfo.InvariantCulture)}%",
        ThresholdMetric.Rps => $"rps = {measured.ToString("0.##", CultureInfo.InvariantCulture)}",
        _ => $"{Metric.ToString().ToLowerInvariant()} = {measured:0}",
    };
}
