using System.CommandLine;
using System.Globalization;

namespace KeyProxy.Cli;

/// <summary><c>keyproxy edge</c>: the counters of the edge on the silo <c>--api</c> points at.</summary>
public static class EdgeCommand
{
    public static Command Build(CliContext context)
    {
        var all = new Option<bool>("--all") { Description = "list packet classes and drop reasons with a count of 0 too" };
        var command = new Command("edge",
            "The counters of this silo's edge (the one --api points at), since the silo started: handsets attached, IKE routes, half-open IKE SAs, " +
            "packets by class, drops by reason, grain calls, ports, and the silo process's CPU and memory.") { all };
        command.SetAction(KeyProxyCli.Action(context, async (result, client, ct) =>
        {
            var edge = await client.GetEdgeAsync(ct);
            if (context.Json(result))
            {
                JsonOutput.Write(context.Output, edge.Json);
                return;
            }
            Write(context.Output, edge.Value, result.GetValue(all));
        }));
        return command;
    }

    public static void Write(TextWriter output, EdgeStatus e, bool all)
    {
        var c = CultureInfo.InvariantCulture;
        output.WriteLine($"edge {e.EdgeId}: {e.Attached} attached, {e.Routes} routes, {e.HalfOpen} half-open, {e.GrainCalls} grain calls");
        output.WriteLine($"  ports: handset IKE {e.Ports.HandsetIke}, NAT-T {e.Ports.HandsetNatT}; peer IKE {e.Ports.PeerIke}, NAT-T {e.Ports.PeerNatT}");
        WriteCounters(output, "packets", e.Packets, all);
        WriteCounters(output, "drops", e.Drops, all);
        var p = e.Process;
        output.WriteLine(string.Create(c, $"  process: cpu {p.CpuSeconds:0.0} s, allocated {Mib(p.AllocatedBytes)}, GC heap {Mib(p.GcHeapBytes)}, working set {Mib(p.WorkingSetBytes)}, {p.Gen0Collections} gen0 GCs"));
    }

    private static void WriteCounters(TextWriter output, string title, IReadOnlyDictionary<string, long> counters, bool all)
    {
        var shown = counters.Where(kv => all || kv.Value != 0).ToList();
        output.WriteLine(shown.Count == 0 ? $"  {title}: none" : $"  {title}:");
        var width = shown.Count == 0 ? 0 : shown.Max(kv => kv.Key.Length);
        foreach (var (name, value) in shown) output.WriteLine($"    {name.PadRight(width)}  {value,12}");
    }

    private static string Mib(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):0.0} MiB");
}
