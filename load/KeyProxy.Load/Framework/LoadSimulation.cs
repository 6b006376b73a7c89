namespace KeyProxy.Load.Framework;

/// <summary>How load is applied to a scenario (NBomber's load simulations).</summary>
public abstract record LoadSimulation(TimeSpan During)
{
    /// <summary>A short description for reports, e.g. "inject 20/s for 10s".</summary>
    public abstract string Describe();
}

/// <summary>Closed model: <see cref="Copies"/> copies run the scenario in a loop, each starting its next run when the last ended.</summary>
public sealed record KeepConstant(int Copies, TimeSpan During) : LoadSimulation(During)
{
    public override string Describe() => $"keep {Copies} copies for {Format(During)}";

    internal static string Format(TimeSpan t) => t.TotalSeconds % 1 == 0 ? $"{t.TotalSeconds:0}s" : $"{t.TotalMilliseconds:0}ms";
}

/// <summary>Open model with a rate: a new scenario run starts every 1/<see cref="Rate"/> seconds whatever the runs in flight.</summary>
public abstract record OpenSimulation(TimeSpan During) : LoadSimulation(During)
{
    /// <summary>How many runs should have started <paramref name="elapsed"/> into the simulation (the integral of the rate, floored).</summary>
    public abstract long StartsDue(TimeSpan elapsed);

    /// <summary>Runs the whole simulation starts.</summary>
    public long TotalStarts => StartsDue(During);
}

/// <summary>Open model: <see cref="Rate"/> scenario runs started per second for <c>During</c>.</summary>
public sealed record InjectRate(double Rate, TimeSpan During) : OpenSimulation(During)
{
    public override long StartsDue(TimeSpan elapsed)
    {
        var t = Math.Clamp(elapsed.TotalSeconds, 0, During.TotalSeconds);
        return (long)Math.Floor(Rate * t + 1e-9);
    }

    public override string Describe() => $"inject {Rate:0.##}/s for {KeepConstant.Format(During)}";
}

/// <summary>Open model: the start rate goes linearly from <see cref="FromRate"/> to <see cref="ToRate"/> over <c>During</c>.</summary>
public sealed record RampRate(double FromRate, double ToRate, TimeSpan During) : OpenSimulation(During)
{
    public override long StartsDue(TimeSpan elapsed)
    {
        double d = During.TotalSeconds;
        var t = Math.Clamp(elapsed.TotalSeconds, 0, d);
        // Integral of r(t) = a + (b - a) t / d.
        double starts = FromRate * t + (d <= 0 ? 0 : (ToRate - FromRate) * t * t / (2 * d));
        return (long)Math.Floor(starts + 1e-9);
    }

    public override string Describe() => $"ramp {FromRate:0.##}/s to {ToRate:0.##}/s over {KeepConstant.Format(During)}";
}
