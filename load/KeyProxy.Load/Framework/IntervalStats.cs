namespace KeyProxy.Load.Framework;

/// <summary>
/// One step's figures over one interval of the load (by default a second): the invocations that
/// ended in it, their rate, and the latency percentiles of the ok ones, in milliseconds. An interval
/// in which nothing ended is still listed, with zeros: a stall is what a time series is for.
/// </summary>
public sealed record IntervalStats(TimeSpan Start, TimeSpan Length, long Ok, long Failed, double P50Ms, double P90Ms, double P99Ms, double MaxMs)
{
    public long Total => Ok + Failed;

    /// <summary>Ok and failed invocations per second of this interval.</summary>
    public double Rps => Length > TimeSpan.Zero ? Total / Length.TotalSeconds : 0;

    /// <summary>Ok invocations per second of this interval (the rate the reports list and plot: failures are listed apart).</summary>
    public double OkRate => Length > TimeSpan.Zero ? Ok / Length.TotalSeconds : 0;
}
