using KeyProxy.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace KeyProxy.Edge;

/// <summary>
/// The grain face of one edge gateway, activated on the edge's own silo (<see cref="EdgePlacementAttribute"/>):
/// proxy sessions and subscriber grains reach the edge through it.
/// </summary>
[EdgePlacement]
public sealed class EdgeGrain : Grain, IEdgeGrain
{
    // The gateway from this silo's own services, not a process-wide table by edge id: several
    // clusters in one process (the end-to-end tests) may each have an edge of the same name.
    private EdgeGateway Gateway => ServiceProvider.GetService<EdgeGateway>() is { } gateway && gateway.EdgeId == this.GetPrimaryKeyString()
        ? gateway
        : throw new InvalidOperationException($"edge {this.GetPrimaryKeyString()} does not run on this silo");

    public Task Apply(Guid session, EdgeActions actions)
    {
        Gateway.Apply(session, actions);
        return Task.CompletedTask;
    }

    public Task<bool> DeliverKeyTransfer(uint tunnelId, string peerAddress, byte[] sealedMessage) =>
        Task.FromResult(Gateway.DeliverKeyTransfer(tunnelId, peerAddress, sealedMessage));

    public Task RemoveRoutes(Guid session)
    {
        Gateway.RemoveRoutes(session);
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<Guid>> EstablishedSessions() => Task.FromResult(Gateway.EstablishedSessions());

    public Task Revoke(string nai, uint tunnelId)
    {
        Gateway.Revoke(nai, tunnelId);
        return Task.CompletedTask;
    }

    public Task<EdgeStatus> GetStatus()
    {
        var g = Gateway;
        var counters = new Dictionary<string, long>();
        foreach (var c in Enum.GetValues<EdgePacketClass>()) counters["packets." + c] = g.Metrics.Packets(c);
        foreach (var r in Enum.GetValues<EdgeDropReason>()) counters["drops." + r] = g.Metrics.Drops(r);
        counters["grainCalls"] = g.Metrics.GrainCalls;
        counters["halfOpen"] = g.HalfOpen;
        return Task.FromResult(new EdgeStatus(g.EdgeId, g.Attachments(), counters, g.Routes));
    }
}
