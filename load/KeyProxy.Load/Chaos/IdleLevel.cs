using System.Text.Json.Nodes;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Chaos;

/// <summary>One edge's resting figures (<c>GET /api/edge</c>).</summary>
public sealed record EdgeFigures(long Attached, long Routes, long HalfOpen, long GcHeapBytes, long WorkingSetBytes);

/// <summary>
/// The cluster's resting figures, from what the silos serve: each edge's attached handsets, IKE routes and GC heap
/// (<c>GET /api/edge</c>), and the activations by grain type summed over the silos (the dashboard's
/// <c>simpleGrainStats</c>). Taken when the cluster is up before the load (idle) and after it (back to idle?).
/// </summary>
public sealed record IdleLevel(IReadOnlyDictionary<string, EdgeFigures> Edges, IReadOnlyDictionary<string, long> Activations)
{
    /// <summary>Why a silo did not answer (one line per silo that failed), for the report.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];

    public long ActivationsOf(string grainTypeSuffix) =>
        Activations.Where(a => a.Key.EndsWith(grainTypeSuffix, StringComparison.Ordinal)).Sum(a => a.Value);

    /// <summary>Reads the figures; an edge that does not answer is left out.</summary>
    public static async Task<IdleLevel> ReadAsync(ChaosCluster cluster, CancellationToken ct)
    {
        var edges = new Dictionary<string, EdgeFigures>();
        var activations = new Dictionary<string, long>();
        var errors = new List<string>();
        foreach (var silo in cluster.Silos.Where(s => s.IsEdge))
        {
            try
            {
                using var http = LoadCredentials.Client(silo.Api, TimeSpan.FromSeconds(15));
                var edge = JsonNode.Parse(await http.GetStringAsync("api/edge", ct))!;
                var process = edge["process"];
                edges[silo.Name] = new EdgeFigures((long)edge["attached"]!, (long)edge["routes"]!, (long?)edge["halfOpen"] ?? 0,
                    (long?)process?["gcHeapBytes"] ?? 0, (long?)process?["workingSetBytes"] ?? 0);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException or NullReferenceException)
            {
                errors.Add($"{silo.Name} api/edge: {e.GetType().Name}: {e.Message}");
            }
        }
        foreach (var silo in cluster.Silos)
        {
            try
            {
                using var http = LoadCredentials.Client(silo.Api, TimeSpan.FromSeconds(15));
                var counters = JsonNode.Parse(await http.GetStringAsync("dashboard/DashboardCounters", ct))!;
                // The statistics a killed silo last reported stay listed under its address: only the Active silos' count.
                var active = new HashSet<string>();
                foreach (var host in counters["hosts"]?.AsArray() ?? [])
                    if ((string?)host?["status"] == "Active" && (string?)host["siloAddress"] is { } address) active.Add(address);
                foreach (var stat in counters["simpleGrainStats"]?.AsArray() ?? [])
                {
                    var type = (string?)stat?["grainType"];
                    if (type is null || (string?)stat!["siloAddress"] is not { } at || !active.Contains(at)) continue;
                    activations[type] = activations.GetValueOrDefault(type) + ((long?)stat!["activationCount"] ?? 0);
                }
                break; // one silo's dashboard covers the cluster's grain statistics
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException)
            {
                errors.Add($"{silo.Name} dashboard: {e.GetType().Name}: {e.Message}");
            }
        }
        return new IdleLevel(edges, activations) { Errors = errors };
    }

    public override string ToString() =>
        string.Join("; ", Edges.Select(e => $"{e.Key}: attached {e.Value.Attached}, routes {e.Value.Routes}, half-open {e.Value.HalfOpen}, GC heap {e.Value.GcHeapBytes / 1048576.0:F0} MiB"))
        + $"; activations: {string.Join(", ", Activations.Where(a => a.Value > 0).Select(a => $"{a.Key.Split('.').Last()} {a.Value}"))}";
}
