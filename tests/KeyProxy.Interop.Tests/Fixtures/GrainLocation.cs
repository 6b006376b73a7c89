using System.Diagnostics;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>
/// Where activations live, from the silos' own catalogs (the management grain asks every silo for
/// its detailed grain statistics): what the roaming tests use to see a subscriber grain move.
/// </summary>
internal static class GrainLocation
{
    /// <summary>The silo named after <paramref name="edgeId"/> (every edge silo is), from the cluster's membership.</summary>
    public static async Task<SiloAddress> SiloOfEdgeAsync(IGrainFactory grains, string edgeId)
    {
        foreach (var host in await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true))
            if (host.SiloName == edgeId) return host.SiloAddress;
        throw new InvalidOperationException($"no active silo is named {edgeId}");
    }

    /// <summary>The silos that hold an activation of <paramref name="grain"/> right now (normally one, none when it is not active).</summary>
    public static async Task<IReadOnlyList<SiloAddress>> ActivationSilosAsync(IGrainFactory grains, IAddressable grain)
    {
        var id = grain.GetGrainId();
        var silos = new List<SiloAddress>();
        foreach (var statistic in await grains.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
            if (statistic.GrainId.Equals(id)) silos.Add(statistic.SiloAddress);
        return silos;
    }

    /// <summary>Polls until <paramref name="grain"/> is active on <paramref name="silo"/> and nowhere else; throws with where it was seen last.</summary>
    public static async Task WaitUntilOnlyOnAsync(IGrainFactory grains, IAddressable grain, SiloAddress silo, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<SiloAddress> seen = [];
        while (clock.Elapsed < timeout)
        {
            seen = await ActivationSilosAsync(grains, grain);
            if (seen.Count == 1 && seen[0].Equals(silo)) return;
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"{grain.GetGrainId()} is active on [{string.Join(", ", seen)}], not only on {silo}, after {timeout}");
    }
}
