using System.CommandLine;
using System.Net;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Peers;

namespace KeyProxy.Load.Baselines;

/// <summary><c>peers</c>: engine responder peers until stdin closes or the process is told to stop (the comparison's child process).</summary>
public static class PeersCommand
{
    public const string ReadyLine = "peers ready";
}

/// <summary>The baseline commands: <c>engine-sa</c>, <c>charon-baseline</c>, <c>compare</c> and <c>peers</c>.</summary>
public static class BaselineCommands
{
    /// <summary>Adds them to <paramref name="root"/>; <paramref name="interval"/> is the root's <c>--interval</c> (latency-over-time rows).</summary>
    public static void AddTo(RootCommand root, Option<string> interval)
    {
        root.Subcommands.Add(EngineSa(interval));
        root.Subcommands.Add(CharonBaseline(interval));
        root.Subcommands.Add(Compare(interval));
        root.Subcommands.Add(Peers());
    }

    private static Option<string> Dh() => new("--dh") { Description = "DH group of every IKE proposal: " + DhGroupChoice.Accepted, DefaultValueFactory = _ => DhGroupChoice.Default };

    private static Option<string> Duration(string fallback) => new("--duration") { Description = "how long the load runs at most: 10s, 500ms, 2m", DefaultValueFactory = _ => fallback };

    private static Option<string> ReportDir(string fallback) => new("--report-dir") { Description = "where the reports go", DefaultValueFactory = _ => fallback };

    private static Option<bool> NoLive() => new("--no-live") { Description = "no live progress (also off when output is redirected)" };

    private static bool Live(ParseResult parse, Option<bool> noLive) => !parse.GetValue(noLive) && !Console.IsOutputRedirected && !Console.IsErrorRedirected;

    private static Command EngineSa(Option<string> interval)
    {
        var handsets = new Option<int>("--handsets") { Description = "handsets, one IKE SA each", DefaultValueFactory = _ => 200 };
        var duration = Duration("10s");
        var rate = new Option<double?>("--rate") { Description = "open model: SAs started per second (default: handsets / duration)" };
        var copies = new Option<int?>("--copies") { Description = "closed model: this many SAs in flight" };
        var dh = Dh();
        var peers = new Option<int>("--peers") { Description = "engine responder peers on PEER-NETWORK.1..N (started here unless --external-peers)", DefaultValueFactory = _ => 8 };
        var peerNetwork = new Option<string>("--peer-network") { Description = "the peers' /24", DefaultValueFactory = _ => "127.0.140.0" };
        var peerPort = new Option<int>("--peer-port") { DefaultValueFactory = _ => 20500 };
        var peerNatTPort = new Option<int>("--peer-natt-port") { DefaultValueFactory = _ => 24500 };
        var external = new Option<bool>("--external-peers") { Description = "the peers already run (e.g. keyproxy-load peers)" };
        var pairs = new Option<int>("--socket-pairs") { Description = "IKE + NAT-T socket pairs the handsets share", DefaultValueFactory = _ => 8 };
        var handsetNetwork = new Option<string>("--handset-network") { Description = "the handsets' /24 (pair j binds .j+1)", DefaultValueFactory = _ => "127.0.150.0" };
        var reportDir = ReportDir("load-report");
        var noLive = NoLive();
        var command = new Command("engine-sa", "baseline without the proxy: N handsets each run IKE themselves with our engine (in this process, real UDP) against the responder peers; the step measures IKE_SA_INIT sent to the CHILD_SA; prints this process's CPU per SA (the handsets' cost)")
        {
            handsets, duration, rate, copies, dh, peers, peerNetwork, peerPort, peerNatTPort, external, pairs, handsetNetwork, reportDir, noLive,
        };
        command.SetAction(async (parse, ct) =>
        {
            var errors = new List<string>();
            if (!DhGroupChoice.TryParse(parse.GetValue(dh), out var group)) errors.Add($"--dh '{parse.GetValue(dh)}' is not {KeyProxy.Load.Baselines.DhGroupChoice.Accepted}");
            if (!CommandLineValues.TryParseDuration(parse.GetValue(duration)!, out var during)) errors.Add("--duration is not a duration like 10s");
            if (!IPAddress.TryParse(parse.GetValue(peerNetwork), out var peerNet)) errors.Add("--peer-network is not an address");
            if (!IPAddress.TryParse(parse.GetValue(handsetNetwork), out var handsetNet)) errors.Add("--handset-network is not an address");
            int n = parse.GetValue(handsets);
            if (n < 1) errors.Add("--handsets must be at least 1");
            var rowLength = CommandLineValues.ParseInterval(parse, interval, errors);
            var simulation = errors.Count == 0 ? CommandLineValues.Simulation(parse.GetValue(rate), null, parse.GetValue(copies), n, during, errors) : null;
            if (simulation is null || errors.Count > 0)
            {
                foreach (var e in errors) Console.Error.WriteLine(e);
                return 1;
            }
            await using var scenario = new EngineSaScenario(new EngineSaOptions(n, parse.GetValue(peers), parse.GetValue(peerPort), parse.GetValue(peerNatTPort), group)
            {
                PeerNetwork = peerNet!, HandsetNetwork = handsetNet!, ExternalPeers = parse.GetValue(external), SocketPairs = parse.GetValue(pairs),
            });
            var self = CpuMeter.Self();
            var (run, _) = await LoadSession.RunAsync(LoadPhase.Measure(scenario.Build(), self), simulation, parse.GetValue(reportDir)!, [], Console.Out, Live(parse, noLive), ct, rowLength);
            long ok = run.Scenarios[0].Steps[0].Ok;
            Console.WriteLine($"engine-sa {group}: {ok} SAs; load process CPU {self.Used.TotalSeconds:F2} s over the load = {(ok > 0 ? self.Used.TotalMilliseconds / ok : 0):F3} ms per SA"
                + (scenario.Peers is null ? " (peers elsewhere)" : " (includes the in-process responder peers; use --external-peers for the handsets alone)"));
            return 0;
        });
        return command;
    }

    private static Command CharonBaseline(Option<string> interval)
    {
        var sas = new Option<int>("--sas") { Description = "IKE SAs to make (at most)", DefaultValueFactory = _ => 2000 };
        var copies = new Option<int>("--copies") { Description = "IKE SAs in flight (closed model)", DefaultValueFactory = _ => 32 };
        var rate = new Option<double?>("--rate") { Description = "open model instead: SAs started per second" };
        var duration = Duration("15s");
        var dh = Dh();
        var work = new Option<string>("--work-dir") { Description = "the charons' configs and logs", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), $"kpbase-c2c-{Environment.ProcessId}") };
        var reportDir = ReportDir("load-report");
        var noLive = NoLive();
        var command = new Command("charon-baseline", "charon to charon (strongSwan's load-tester plugin, built by infra/strongswan/build-load-tester.sh) in a network namespace: PSK, the DH group, one CHILD_SA per IKE SA, no kernel SAs; prints SAs/s, latency and both charons' CPU per SA")
        {
            sas, copies, rate, duration, dh, work, reportDir, noLive,
        };
        command.SetAction(async (parse, ct) =>
        {
            var errors = new List<string>();
            if (!DhGroupChoice.TryParse(parse.GetValue(dh), out var group)) errors.Add($"--dh '{parse.GetValue(dh)}' is not {KeyProxy.Load.Baselines.DhGroupChoice.Accepted}");
            if (!CommandLineValues.TryParseDuration(parse.GetValue(duration)!, out var during)) errors.Add("--duration is not a duration like 10s");
            if (parse.GetValue(sas) < 1 || parse.GetValue(copies) < 1) errors.Add("--sas and --copies must be at least 1");
            var rowLength = CommandLineValues.ParseInterval(parse, interval, errors);
            if (errors.Count > 0)
            {
                foreach (var e in errors) Console.Error.WriteLine(e);
                return 1;
            }
            LoadSimulation simulation = parse.GetValue(rate) is { } r && r > 0 ? new InjectRate(r, during) : new KeepConstant(parse.GetValue(copies), during);
            await using var scenario = new CharonBaselineScenario(new CharonBaselineOptions(group, parse.GetValue(sas), parse.GetValue(work)!) { MaxConcurrency = Math.Max(parse.GetValue(copies), 16) });
            var initiator = CpuMeter.Of(() => [scenario.InitiatorPid]);
            var responder = CpuMeter.Of(() => [scenario.ResponderPid]);
            var (run, _) = await LoadSession.RunAsync(LoadPhase.Measure(scenario.Build(), initiator, responder), simulation, parse.GetValue(reportDir)!, [], Console.Out, Live(parse, noLive), ct, rowLength);
            long ok = run.Scenarios[0].Steps[0].Ok;
            double perSa(TimeSpan t) => ok > 0 ? t.TotalMilliseconds / ok : 0;
            Console.WriteLine($"charon-to-charon {group}: {ok} SAs in {run.Scenarios[0].Duration.TotalSeconds:F2} s = {ok / run.Scenarios[0].Duration.TotalSeconds:F1}/s; "
                + $"CPU per SA: initiator {perSa(initiator.Used):F3} ms + responder {perSa(responder.Used):F3} ms; {scenario.Retransmits} retransmissions");
            return 0;
        });
        return command;
    }

    private static Command Compare(Option<string> interval)
    {
        var dh = new Option<string[]>("--dh") { Description = "DH groups to compare (repeat; default all three)", AllowMultipleArgumentsPerToken = true };
        var handsets = new Option<int>("--handsets") { Description = "SAs per system and group", DefaultValueFactory = _ => 300 };
        var duration = Duration("15s");
        var copies = new Option<int>("--copies") { Description = "SAs in flight in every system", DefaultValueFactory = _ => 32 };
        var siloDll = new Option<string>("--silo-dll") { DefaultValueFactory = _ => new CompareOptions().SiloDll };
        var warmup = new Option<int>("--warmup") { Description = "SAs made (not counted) before each proxied-sa and engine-sa run", DefaultValueFactory = _ => new CompareOptions().Warmup };
        var reportDir = ReportDir("compare-report");
        var noCharon = new Option<bool>("--no-charon") { Description = "skip charon to charon (the proxied/engine ratios and grain calls only; faster A/B runs)" };
        var siloEnv = new Option<string[]>("--silo-env") { Description = "NAME=VALUE added to the silo's environment (repeat), e.g. DOTNET_gcServer=0; the 128 MiB gen0 budget is set unless NAME is DOTNET_GCgen0size", AllowMultipleArgumentsPerToken = false };
        var command = new Command("compare", "per DH group, back to back: proxied-sa through a silo child process, engine-sa (handsets doing their own IKE), charon to charon; writes compare.md and compare.csv with SAs/s, p50/p99, CPU per SA and the ratios")
        {
            dh, handsets, duration, copies, siloDll, warmup, reportDir, noCharon, siloEnv,
        };
        command.SetAction(async (parse, ct) =>
        {
            var groups = new List<string>();
            foreach (var text in parse.GetValue(dh) is { Length: > 0 } given ? given : [.. DhGroupChoice.All])
            {
                if (!DhGroupChoice.TryParse(text, out var g))
                {
                    Console.Error.WriteLine($"--dh '{text}' is not {KeyProxy.Load.Baselines.DhGroupChoice.Accepted}");
                    return 1;
                }
                groups.Add(g);
            }
            if (!CommandLineValues.TryParseDuration(parse.GetValue(duration)!, out var during) || parse.GetValue(handsets) is < 1 or > 5000 || parse.GetValue(copies) < 1)
            {
                Console.Error.WriteLine("--duration must be like 15s, --handsets 1..5000 (one /18 pool serves every group), --copies at least 1");
                return 1;
            }
            var intervalErrors = new List<string>();
            var rowLength = CommandLineValues.ParseInterval(parse, interval, intervalErrors);
            if (intervalErrors.Count > 0)
            {
                Console.Error.WriteLine(intervalErrors[0]);
                return 1;
            }
            var environment = new Dictionary<string, string>(new CompareOptions().SiloEnvironment);
            foreach (var pair in parse.GetValue(siloEnv) ?? [])
            {
                var equals = pair.IndexOf('=');
                if (equals < 1)
                {
                    Console.Error.WriteLine($"--silo-env '{pair}' is not NAME=VALUE");
                    return 1;
                }
                environment[pair[..equals]] = pair[(equals + 1)..];
            }
            var options = new CompareOptions
            {
                SiloEnvironment = environment,
                Interval = rowLength,
                Groups = groups, Handsets = parse.GetValue(handsets), Duration = during, Concurrency = parse.GetValue(copies),
                SiloDll = parse.GetValue(siloDll)!, ReportDir = parse.GetValue(reportDir)!, Warmup = Math.Max(0, parse.GetValue(warmup)),
                SkipCharon = parse.GetValue(noCharon),
            };
            Console.WriteLine("silo environment: " + string.Join(' ', environment.Select(e => $"{e.Key}={e.Value}")));
            var rows = await new CompareRunner(options, Console.Out).RunAsync(ct);
            Console.WriteLine();
            Console.WriteLine(ComparisonReport.RenderMarkdown(rows, CompareRunner.Method));
            return 0;
        });
        return command;
    }

    private static Command Peers()
    {
        var dh = Dh();
        var peers = new Option<int>("--peers") { DefaultValueFactory = _ => 8 };
        var peerNetwork = new Option<string>("--peer-network") { DefaultValueFactory = _ => "127.0.140.0" };
        var peerPort = new Option<int>("--peer-port") { DefaultValueFactory = _ => 20500 };
        var peerNatTPort = new Option<int>("--peer-natt-port") { DefaultValueFactory = _ => 24500 };
        var command = new Command("peers", $"engine responder peers until stdin closes or SIGTERM (prints '{PeersCommand.ReadyLine}'); compare runs them as a child process")
        {
            dh, peers, peerNetwork, peerPort, peerNatTPort,
        };
        command.SetAction(async (parse, ct) =>
        {
            if (!DhGroupChoice.TryParse(parse.GetValue(dh), out var group) || !IPAddress.TryParse(parse.GetValue(peerNetwork), out var network))
            {
                Console.Error.WriteLine($"--dh must be {DhGroupChoice.Accepted} and --peer-network an address");
                return 1;
            }
            await using var hosts = new ResponderPeers(parse.GetValue(peers), network, parse.GetValue(peerPort), parse.GetValue(peerNatTPort), [DhGroupChoice.IkeProposal(group)]);
            Console.WriteLine($"{PeersCommand.ReadyLine}: {parse.GetValue(peers)} on {network}/24 ports {parse.GetValue(peerPort)}/{parse.GetValue(peerNatTPort)}, {group}");
            var stdinClosed = Task.Run(() => { while (Console.In.ReadLine() is not null) { } });
            try { await Task.WhenAny(stdinClosed, Task.Delay(Timeout.Infinite, ct)); }
            catch (OperationCanceledException) { }
            Console.WriteLine($"peers: {hosts.Established} IKE SAs, {hosts.ChildSas} CHILD_SAs");
            return 0;
        });
        return command;
    }
}
