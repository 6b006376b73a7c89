using System.Collections.Concurrent;

namespace KeyProxy.Edge;

/// <summary>The edge gateways running in this process, by edge id: how an <see cref="EdgeGrain"/> finds its own.</summary>
internal static class EdgeGatewayRegistry
{
    private static readonly ConcurrentDictionary<string, EdgeGateway> Gateways = new();

    public static void Register(EdgeGateway gateway) => Gateways[gateway.EdgeId] = gateway;

    public static void Unregister(EdgeGateway gateway) => Gateways.TryRemove(new KeyValuePair<string, EdgeGateway>(gateway.EdgeId, gateway));

    public static EdgeGateway? Find(string edgeId) => Gateways.TryGetValue(edgeId, out var g) ? g : null;
}
