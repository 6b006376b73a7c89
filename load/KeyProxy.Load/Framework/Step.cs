namespace KeyProxy.Load.Framework;

/// <summary>One named, measured step of a scenario.</summary>
public sealed record Step(string Name, Func<StepContext, Task<StepResult>> Run)
{
    /// <summary>What one ok invocation yields, e.g. "SAs": the reports then also give the step's rate as "SAs/s".</summary>
    public string? Unit { get; init; }
}
