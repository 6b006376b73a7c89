using System.CommandLine;
using System.Globalization;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Reports;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Load.Chaos;

/// <summary>
/// <c>keyproxy-load chaos</c> (issue 15 items 3 and 4): a cluster of two edge and two core silos on Azurite through
/// infra/cluster/cluster.sh, the soak's steady load (<see cref="ChaosLoad"/>), the seeded <see cref="FaultInjector"/>,
/// and the <see cref="Invariants"/> checked every second and at the end. Exit code 0 when every invariant held and the
/// required faults happened; 3 on a breach or a required fault missing; 1 for bad arguments or a cluster that would not
/// start. The report and the silo logs' paths are printed either way.
/// </summary>
public static class ChaosCommand
{
    public const int Breached = 3;

    public static Command Create()
    {
        var seed = new Option<int>("--seed") { Description = "seed of the fault injector (kinds, targets, times, lengths)", DefaultValueFactory = _ => 1 };
        var duration = new Option<string>("--duration") { Description = "how long the load runs and faults start: 2m, 30m", DefaultValueFactory = _ => "2m" };
        var gap = new Option<string>("--gap") { Description = "pause before each fault, drawn between MIN and MAX: 5s:30s", DefaultValueFactory = _ => "5s:30s" };
        var mix = new Option<string>("--mix") { Description = "weights of the fault kinds drawn: kill=3,storage=1,isolate=1", DefaultValueFactory = _ => "kill=3,storage=1,isolate=1" };
        var require = new Option<string>("--require") { Description = "faults that must happen (they come first): kill=3,storage=1,isolate=1; the run fails without them", DefaultValueFactory = _ => "" };
        var portOffset = new Option<int>("--port-offset") { Description = "added to every port of cluster.sh's (silo 11111.., HTTP 8081.., access 7401.., Azurite 10000..)", DefaultValueFactory = _ => 300 };
        var ikePort = new Option<int>("--ike-port") { Description = "the IKE port on handset addresses and at the peers", DefaultValueFactory = _ => 10600 };
        var natTPort = new Option<int>("--natt-port") { Description = "the NAT-T port on handset addresses and at the peers", DefaultValueFactory = _ => 14600 };
        var dir = new Option<string?>("--dir") { Description = "the cluster's state directory: pid files, silo logs, Azurite's data (default /tmp/keyproxy-chaos-OFFSET)" };
        var reportDir = new Option<string>("--report-dir") { Description = "where chaos.md, chaos-faults.csv, chaos-invariants.csv and the load reports go", DefaultValueFactory = _ => "chaos-report" };
        var keep = new Option<bool>("--keep-cluster") { Description = "leave the cluster running at the end" };
        var flow1 = new Option<double>("--flow1-rate") { Description = "handset-initiated SAs started per second", DefaultValueFactory = _ => 1 };
        var flow2 = new Option<double>("--flow2-rate") { Description = "peer-initiated SAs started per second", DefaultValueFactory = _ => 0.5 };
        var esp = new Option<double>("--esp-rate") { Description = "ESP echoes started per second", DefaultValueFactory = _ => 5 };
        var roam = new Option<double>("--roam-rate") { Description = "roams between the edges started per second", DefaultValueFactory = _ => 0.2 };
        var provision = new Option<double>("--provision-rate") { Description = "provisioning PUTs started per second", DefaultValueFactory = _ => 0.5 };
        var command = new Command("chaos", "a seeded chaos soak: 2 edge + 2 core silos on Azurite under steady load while silos are killed, storage stopped and silos cut off; invariants checked throughout")
        {
            seed, duration, gap, mix, require, portOffset, ikePort, natTPort, dir, reportDir, keep, flow1, flow2, esp, roam, provision,
        };
        command.SetAction(async (parse, ct) =>
        {
            var errors = new List<string>();
            if (!CommandLineValues.TryParseDuration(parse.GetValue(duration)!, out var during)) errors.Add($"--duration '{parse.GetValue(duration)}' is not a duration like 2m");
            var gapParts = parse.GetValue(gap)!.Split(':');
            TimeSpan gapMin = default, gapMax = default;
            if (gapParts.Length != 2 || !CommandLineValues.TryParseDuration(gapParts[0], out gapMin) || !CommandLineValues.TryParseDuration(gapParts[1], out gapMax) || gapMax < gapMin)
                errors.Add($"--gap '{parse.GetValue(gap)}' is not MIN:MAX like 5s:30s");
            var weights = ParseKinds(parse.GetValue(mix)!, "--mix", errors, s => double.Parse(s, CultureInfo.InvariantCulture));
            var required = ParseKinds(parse.GetValue(require)!, "--require", errors, s => int.Parse(s, CultureInfo.InvariantCulture));
            if (ChaosCluster.FindRepositoryRoot() is null) errors.Add("infra/cluster/cluster.sh not found above the tool or the working directory");
            bool isolates = weights.GetValueOrDefault(FaultKind.Isolate) > 0 || required.GetValueOrDefault(FaultKind.Isolate) > 0;
            if (isolates && Environment.UserName != "root") errors.Add("isolation needs root (nftables rules, cgroups); run as root or give --mix without isolate");
            if (isolates && !File.Exists("/usr/sbin/nft") && !File.Exists("/sbin/nft")) errors.Add("isolation needs nftables: apt-get install nftables");
            foreach (var e in errors) Console.Error.WriteLine(e);
            if (errors.Count > 0) return 1;
            int offset = parse.GetValue(portOffset);
            var plan = new FaultPlan(parse.GetValue(seed), during) { GapMin = gapMin, GapMax = gapMax, Mix = weights, Required = required };
            var load = new ChaosLoadOptions
            {
                Flow1Rate = parse.GetValue(flow1), Flow2Rate = parse.GetValue(flow2), EspRate = parse.GetValue(esp),
                RoamRate = parse.GetValue(roam), ProvisionRate = parse.GetValue(provision),
            };
            var cluster = new ChaosCluster(ChaosCluster.FindRepositoryRoot()!, parse.GetValue(dir) ?? $"/tmp/keyproxy-chaos-{offset}", offset,
                parse.GetValue(ikePort), parse.GetValue(natTPort), ChaosSettings.SiloEnvironment(), Console.Out);
            return await new ChaosRun(cluster, plan, load, parse.GetValue(reportDir)!, parse.GetValue(keep), Console.Out).RunAsync(ct);
        });
        return command;
    }

    /// <summary>"kill=3,storage=1,isolate=1" by kind; problems go to errors.</summary>
    private static Dictionary<FaultKind, T> ParseKinds<T>(string text, string option, List<string> errors, Func<string, T> parse)
    {
        var result = new Dictionary<FaultKind, T>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=');
            try
            {
                if (kv.Length == 2 && Enum.TryParse<FaultKind>(kv[0], ignoreCase: true, out var kind)) result[kind] = parse(kv[1]);
                else errors.Add($"{option}: '{part}' is not KIND=N with KIND kill, storage or isolate");
            }
            catch (FormatException)
            {
                errors.Add($"{option}: '{part}' is not KIND=N");
            }
        }
        return result;
    }
}
