using System.Diagnostics;
using KeyProxy.Edge;
using KeyProxy.Abstractions;

namespace KeyProxy.Silo.Api;

/// <summary>
/// GET /api/edge: this silo's edge counters (packets by class, drops by reason, grain calls) and the
/// process figures a load run reads before and after a phase: CPU time, bytes allocated, GC heap, RSS.
/// Counters are cumulative since the silo started; a reader takes differences.
/// </summary>
public sealed record EdgeStatusDto(
    string EdgeId,
    int Attached,
    int Routes,
    int HalfOpen,
    IReadOnlyDictionary<string, long> Packets,
    IReadOnlyDictionary<string, long> Drops,
    long GrainCalls,
    EdgePortsDto Ports,
    ProcessFiguresDto Process)
{
    public static EdgeStatusDto From(EdgeGateway edge, ProxyNetworkOptions network)
    {
        var packets = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var c in Enum.GetValues<EdgePacketClass>()) packets[Camel(c.ToString())] = edge.Metrics.Packets(c);
        var drops = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var r in Enum.GetValues<EdgeDropReason>()) drops[Camel(r.ToString())] = edge.Metrics.Drops(r);
        return new EdgeStatusDto(edge.EdgeId, edge.AttachedCount, edge.Routes, edge.HalfOpen, packets, drops, edge.Metrics.GrainCalls,
            new EdgePortsDto(network.HandsetIkePort, network.HandsetNatTPort, network.PeerIkePort, network.PeerNatTPort),
            ProcessFiguresDto.Now());
    }

    private static string Camel(string name) => char.ToLowerInvariant(name[0]) + name[1..];
}

/// <summary>
/// The UDP ports of this edge's handset addresses, and those the proxy sends a first IKE_SA_INIT to at a
/// peer (KeyProxy:Network:PeerIkePort, PeerNatTPort): a load tool hosting peers binds them there.
/// </summary>
public sealed record EdgePortsDto(int HandsetIke, int HandsetNatT, int PeerIke, int PeerNatT);

/// <summary>
/// The silo process's own figures at the time of the request. <see cref="Gen0Collections"/> counts every
/// collection (a gen1 or gen2 one collects gen0 too); <see cref="GcPauseSeconds"/> is the time the runtime has
/// held managed threads paused for collections since start (GC.GetTotalPauseDuration).
/// </summary>
public sealed record ProcessFiguresDto(double CpuSeconds, long AllocatedBytes, long GcHeapBytes, long WorkingSetBytes, int Gen0Collections,
    int Gen1Collections, int Gen2Collections, double GcPauseSeconds)
{
    public static ProcessFiguresDto Now()
    {
        using var self = Process.GetCurrentProcess();
        return new ProcessFiguresDto(
            self.TotalProcessorTime.TotalSeconds,
            GC.GetTotalAllocatedBytes(precise: false),
            GC.GetGCMemoryInfo().HeapSizeBytes,
            self.WorkingSet64,
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            GC.GetTotalPauseDuration().TotalSeconds);
    }
}
