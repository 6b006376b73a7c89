using System.Text;
using KeyProxy.Edge;

namespace KeyProxy.Interop.Tests.Fixtures;

/// <summary>What an edge's counters say, for test output when an end-to-end test fails.</summary>
internal static class EdgeDiagnostics
{
    public static string Describe(EdgeSilo silo)
    {
        var metrics = silo.Edge.Metrics;
        var text = new StringBuilder($"edge {silo.EdgeId}: grain calls {metrics.GrainCalls}, routes {silo.Edge.Routes}; packets");
        foreach (var c in Enum.GetValues<EdgePacketClass>())
            if (metrics.Packets(c) is var n and > 0) text.Append($" {c}={n}");
        text.Append("; drops");
        foreach (var r in Enum.GetValues<EdgeDropReason>())
            if (metrics.Drops(r) is var n and > 0) text.Append($" {r}={n}");
        text.Append("; attached");
        foreach (var b in silo.Edge.Attachments()) text.Append($" {b.Nai}@{b.HandsetAddress}#{b.TunnelId}");
        return text.ToString();
    }
}
