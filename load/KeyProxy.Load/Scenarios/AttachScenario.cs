using System.Net;
using KeyProxy.Handset;
using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Scenarios;

/// <summary>What the <c>attach</c> scenario needs: the edge's access endpoint, the admin API, and the fleet's shape.</summary>
public sealed record AttachOptions(IPEndPoint Edge, Uri Api, int Handsets, int Sockets, string NaiPrefix)
{
    public TimeSpan AttachTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Detach every handset when the load is over (so the edge's address pool is free again).</summary>
    public bool DetachAtEnd { get; init; } = true;

    /// <summary>Provision the fleet's subscribers first; false when they were provisioned before (<c>keyproxy-load provision</c>).</summary>
    public bool Provision { get; init; } = true;
}

/// <summary>
/// <c>attach</c>: init provisions N subscribers through the admin API and opens the fleet; invocation i
/// attaches handset i once (the scenario stops after N invocations); the step <c>attach</c> measures
/// AttachRequest to Attached (challenge, proof, the subscriber grain's check, the accept).
/// </summary>
public sealed class AttachScenario : IAsyncDisposable
{
    private readonly AttachOptions _options;
    private HandsetFleet? _fleet;

    public AttachScenario(AttachOptions options) => _options = options;

    public HandsetFleet? Fleet => _fleet;

    /// <summary>How many handsets were attached when the load ended (before the detach).</summary>
    public int AttachedAtEnd { get; private set; }

    public Scenario Build() => new("attach", [new Step("attach", AttachOne)])
    {
        Init = InitAsync,
        Clean = CleanAsync,
        MaxInvocations = _options.Handsets,
    };

    private async Task InitAsync(ScenarioInitContext context)
    {
        if (_options.Provision)
        {
            using var admin = AdminClient.Create(_options.Api);
            await admin.ProvisionFleetAsync(_options.NaiPrefix, _options.Handsets, parallel: 16, context.CancellationToken);
        }
        _fleet = new HandsetFleet(_options.Edge, _options.Handsets, _options.Sockets, _options.NaiPrefix);
    }

    private async Task<StepResult> AttachOne(StepContext context)
    {
        var handset = _fleet!.Handsets[(int)context.InvocationNumber];
        HandsetEvent outcome;
        try { outcome = await handset.AttachAsync(_options.AttachTimeout, context.CancellationToken); }
        catch (TimeoutException) { return StepResult.Fail("timeout", handset.Bytes); }
        return outcome switch
        {
            Attached => StepResult.Ok(handset.Bytes),
            AttachFailed f => StepResult.Fail(f.Reason is { } r ? $"rejected: {r}" : f.Text, handset.Bytes),
            _ => StepResult.Fail("unexpected " + outcome.GetType().Name, handset.Bytes),
        };
    }

    private async Task CleanAsync(CancellationToken ct)
    {
        AttachedAtEnd = _fleet?.Attached ?? 0;
        if (_options.DetachAtEnd && _fleet is not null) await _fleet.DetachAllAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_fleet is not null) await _fleet.DisposeAsync();
    }
}
