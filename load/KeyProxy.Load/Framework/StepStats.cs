namespace KeyProxy.Load.Framework;

/// <summary>
/// The figures of one step at the end of a run (latencies in milliseconds, of ok invocations;
/// <see cref="Rps"/> counts ok and failed invocations per second of load).
/// </summary>
public sealed record StepStats(
    string Name, long Ok, long Failed, long Bytes, double Rps,
    double MinMs, double MeanMs, double P50Ms, double P75Ms, double P95Ms, double P99Ms, double MaxMs,
    IReadOnlyList<(double Percentile, double Ms)> Distribution,
    IReadOnlyDictionary<string, long> Failures)
{
    public long Total => Ok + Failed;

    /// <summary>The step's <see cref="Step.Unit"/> (null: plain RPS).</summary>
    public string? Unit { get; init; }

    /// <summary>Latency and rate over time: one row per interval of the load, in order, gaps included.</summary>
    public IReadOnlyList<IntervalStats> Intervals { get; init; } = [];

    /// <summary>Failed share in percent (0 with no invocation).</summary>
    public double FailPercent => Total == 0 ? 0 : 100.0 * Failed / Total;
}

/// <summary>One scenario's outcome: its simulation, how long the load ran, its steps in order.</summary>
public sealed record ScenarioStats(string Name, string Simulation, TimeSpan Duration, long Invocations, IReadOnlyList<StepStats> Steps);

/// <summary>A whole run, what the reports print.</summary>
public sealed record RunResult(string Title, DateTimeOffset StartedAt, IReadOnlyList<ScenarioStats> Scenarios);
