using System.Collections.Concurrent;
using Orleans.Runtime;

namespace KeyProxy.Edge;

/// <summary>
/// The edge gateways running in this process, by silo and edge id: how an <see cref="EdgeGrain"/>
/// finds its own. Keyed by silo too because one process may host silos of several clusters (the
/// end-to-end tests run one per test, in parallel), each with an edge of the same id: keyed by
/// edge id alone, one cluster's edge grain would reach (or, once that stopped, miss) another's gateway.
/// </summary>
internal static class EdgeGatewayRegistry
{
    private static readonly ConcurrentDictionary<(SiloAddress Silo, string EdgeId), EdgeGateway> Gateways = new();

    public static void Register(SiloAddress silo, EdgeGateway gateway) => Gateways[(silo, gateway.EdgeId)] = gateway;

    public static void Unregister(SiloAddress silo, EdgeGateway gateway) =>
        Gateways.TryRemove(new KeyValuePair<(SiloAddress, string), EdgeGateway>((silo, gateway.EdgeId), gateway));

    public static EdgeGateway? Find(SiloAddress silo, string edgeId) => Gateways.TryGetValue((silo, edgeId), out var g) ? g : null;
}
