namespace KeyProxy.Load.Framework;

/// <summary>
/// Handed to every step of one scenario run: which run this is (<see cref="InvocationNumber"/>
/// counts runs of the scenario from 0), which copy runs it in the closed model, and the run's
/// cancellation. <see cref="Data"/> carries values from one step to the next within the run.
/// </summary>
public sealed class StepContext
{
    public required string ScenarioName { get; init; }

    public required long InvocationNumber { get; init; }

    /// <summary>The copy (closed model) running this invocation; -1 in the open model.</summary>
    public required int CopyNumber { get; init; }

    public required ILoadClock Clock { get; init; }

    public required CancellationToken CancellationToken { get; init; }

    public Dictionary<string, object> Data { get; } = [];
}
