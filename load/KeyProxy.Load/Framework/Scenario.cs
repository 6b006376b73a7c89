namespace KeyProxy.Load.Framework;

/// <summary>
/// A scenario in NBomber's shape: a name, an optional init (run once before the load starts),
/// ordered steps run one after another in every invocation (a failed step ends that invocation),
/// and an optional clean (run once after the load).
/// </summary>
public sealed record Scenario(string Name, IReadOnlyList<Step> Steps)
{
    public Func<ScenarioInitContext, Task>? Init { get; init; }

    public Func<CancellationToken, Task>? Clean { get; init; }

    /// <summary>Stop starting invocations after this many (for scenarios whose work is finite, e.g. one attach per handset).</summary>
    public long? MaxInvocations { get; init; }

    public override string ToString() => $"Scenario {Name} ({Steps.Count} steps)";
}

/// <summary>What an init sees: the simulation it prepares for and its cancellation.</summary>
public sealed record ScenarioInitContext(LoadSimulation Simulation, CancellationToken CancellationToken);
