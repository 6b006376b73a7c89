using Orleans.Placement;
using Orleans.Runtime;
using Orleans.Runtime.Placement;

namespace KeyProxy.Edge;

/// <summary>
/// Places an <see cref="EdgeGrain"/> on the silo whose name is the grain's key (every edge silo is
/// named after its edge id), so grain calls to an edge reach the process that owns its sockets.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class EdgePlacementStrategy : PlacementStrategy
{
    public static readonly EdgePlacementStrategy Instance = new();
}

[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class EdgePlacementAttribute() : PlacementAttribute(EdgePlacementStrategy.Instance);

public sealed class EdgePlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var edgeId = target.GrainIdentity.Key.ToString();
        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status != SiloStatus.Active || member.Name != edgeId) continue;
            foreach (var silo in compatible)
                if (silo.Equals(member.SiloAddress)) return Task.FromResult(silo);
        }
        throw new OrleansException($"no active silo runs edge '{edgeId}'");
    }
}
