using KeyProxy.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace KeyProxy.Grains;

/// <summary>
/// Where proxy sessions activate (DESIGN, Placement): spread over the cluster's silos by default,
/// since Diffie-Hellman is the cost; or, with <see cref="ProxySessionPlacementMode.EdgeLocal"/>, on
/// the silo of the edge that starts them, for latency.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class ProxySessionPlacementStrategy : PlacementStrategy
{
    public static readonly ProxySessionPlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class ProxySessionPlacementAttribute() : PlacementAttribute(ProxySessionPlacementStrategy.Instance);

/// <summary>Random among compatible silos (Spread) or the calling silo (EdgeLocal, the edge makes the first call).</summary>
public sealed class ProxySessionPlacementDirector(IOptions<ProxyNetworkOptions> options) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        if (options.Value.Placement == ProxySessionPlacementMode.EdgeLocal)
        {
            foreach (var s in silos)
                if (s.Equals(context.LocalSilo)) return Task.FromResult(s);
        }
        return Task.FromResult(silos[Random.Shared.Next(silos.Length)]);
    }
}
