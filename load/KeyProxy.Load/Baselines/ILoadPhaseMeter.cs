using KeyProxy.Load.Framework;

namespace KeyProxy.Load.Baselines;

/// <summary>
/// A reading taken around a scenario's load phase only: after its init (provisioning, attach) and when the load
/// with its runs in flight is over, before its clean.
/// </summary>
public interface ILoadPhaseMeter
{
    Task StartAsync(CancellationToken ct);

    Task StopAsync(CancellationToken ct);
}

/// <summary>Wraps a scenario so that meters read around its load phase.</summary>
public static class LoadPhase
{
    public static Scenario Measure(Scenario scenario, params ILoadPhaseMeter[] meters) => scenario with
    {
        Init = async c =>
        {
            if (scenario.Init is { } init) await init(c);
            foreach (var m in meters) await m.StartAsync(c.CancellationToken);
        },
        Clean = async ct =>
        {
            foreach (var m in meters) await m.StopAsync(ct);
            if (scenario.Clean is { } clean) await clean(ct);
        },
    };
}
