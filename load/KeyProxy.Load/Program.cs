using System.CommandLine;
using System.Globalization;
using System.Net;
using KeyProxy.Load;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Primitives;

var edge = new Option<string>("--edge") { Description = "the edge's access endpoint (UDP)", DefaultValueFactory = _ => "127.0.0.1:7400" };
var api = new Option<string>("--api") { Description = "the silo's HTTP base address (admin API under /api)", DefaultValueFactory = _ => "https://127.0.0.1:8080" };
var handsets = new Option<int>("--handsets") { Description = "simulated handsets", DefaultValueFactory = _ => 200 };
var sockets = new Option<int>("--sockets") { Description = "UDP sockets the handsets share (0: one per 64 handsets, at most 16)", DefaultValueFactory = _ => 0 };
var duration = new Option<string>("--duration") { Description = "how long the load runs: 10s, 500ms, 2m", DefaultValueFactory = _ => "10s" };
var rate = new Option<double?>("--rate") { Description = "open model: scenario runs started per second (default: handsets / duration)" };
var ramp = new Option<string?>("--ramp") { Description = "open model: rate from A to B per second over the duration, as A:B" };
var copies = new Option<int?>("--copies") { Description = "closed model: this many copies loop the scenario" };
var reportDir = new Option<string>("--report-dir") { Description = "where report.md, report.csv, report-intervals.csv and report.html go", DefaultValueFactory = _ => "load-report" };
var thresholds = new Option<string[]>("--threshold") { Description = "TARGET:METRIC<VALUE, e.g. attach:p99<50ms or attach:fail<1%; violated means exit code 2", AllowMultipleArgumentsPerToken = false };
var naiPrefix = new Option<string>("--nai-prefix") { Description = "handset i is PREFIX-00000i@load.keyproxy.test", DefaultValueFactory = _ => "load" };
var noLive = new Option<bool>("--no-live") { Description = "no live progress (also off when output is redirected)" };
var interval = new Option<string>("--interval") { Description = "length of the latency-over-time rows in the reports: 1s, 250ms, 5s", DefaultValueFactory = _ => "1s", Recursive = true };

var hold = new Option<string?>("--hold") { Description = "keep the handsets attached (and their SAs up) this long after the load, e.g. to measure the silo's memory, then detach" };
var noProvision = new Option<bool>("--no-provision") { Description = "the subscribers were provisioned before (keyproxy-load provision with the same --nai-prefix): attach only" };
var attach = new Command("attach", "N simulated handsets, provisioned through the admin API, each attach once; the step measures AttachRequest to Attached")
{
    edge, api, handsets, sockets, duration, rate, ramp, copies, reportDir, thresholds, naiPrefix, noLive, hold, noProvision,
};
attach.SetAction(async (parse, ct) =>
{
    var errors = new List<string>();
    if (ParseLoad(parse, ParseTarget(parse, errors), errors) is not { } load || !TryParseHold(parse, out var holdFor)) return 1;
    int n = load.Handsets;
    await using var scenario = new AttachScenario(new AttachOptions(load.Edge, load.Api, n, SocketCount(parse, n), parse.GetValue(naiPrefix)!)
    { DetachAtEnd = holdFor == TimeSpan.Zero, Provision = !parse.GetValue(noProvision) });
    var (_, exitCode) = await RunAsync(parse, load, scenario.Build(), ct);
    Console.WriteLine($"attached at the end: {scenario.AttachedAtEnd} of {n}");
    await HoldAsync(scenario.Fleet, holdFor, $"{scenario.AttachedAtEnd} handsets attached", ct);
    return exitCode;
});

bool TryParseHold(ParseResult parse, out TimeSpan holdFor)
{
    holdFor = TimeSpan.Zero;
    if (parse.GetValue(hold) is not { } h || CommandLineValues.TryParseDuration(h, out holdFor)) return true;
    Console.Error.WriteLine($"--hold '{h}' is not a duration like 30s");
    return false;
}

// --hold: the fleet stays attached for the hold (the scenario was told not to detach at its end), then detaches.
async Task HoldAsync(HandsetFleet? fleet, TimeSpan holdFor, string what, CancellationToken ct)
{
    if (holdFor <= TimeSpan.Zero || fleet is null) return;
    Console.WriteLine($"holding {what} for {holdFor.TotalSeconds:F0} s");
    try { await Task.Delay(holdFor, ct); } catch (OperationCanceledException) { }
    await fleet.DetachAllAsync();
}

var peers = new Option<int>("--peers") { Description = "IKE responder peers of our own engine on 127.0.120.1..N", DefaultValueFactory = _ => 8 };
var peerPort = new Option<int?>("--peer-port") { Description = "the peers' IKE port (default: the silo's KeyProxy:Network:PeerIkePort, read from GET /api/edge)" };
var peerNatTPort = new Option<int?>("--peer-natt-port") { Description = "the peers' NAT-T port (default: the silo's KeyProxy:Network:PeerNatTPort, read from GET /api/edge)" };
var handsetIkePort = new Option<int?>("--handset-ike-port") { Description = "the port the edge binds on each handset's address for IKE (default: the silo's KeyProxy:Network:HandsetIkePort, from GET /api/edge)" };
var handsetNatTPort = new Option<int?>("--handset-natt-port") { Description = "the NAT-T port the edge binds on each handset's address (default: the silo's KeyProxy:Network:HandsetNatTPort, from GET /api/edge)" };
var dh = new Option<string>("--dh") { Description = "DH group of the subscribers' IKE proposal and the peers': " + KeyProxy.Load.Baselines.DhGroupChoice.Accepted, DefaultValueFactory = _ => KeyProxy.Load.Baselines.DhGroupChoice.Default };
var peerKind = new Option<string>("--peer") { Description = "the peers: engine (our IKE engine, in this process), strongswan (one charon, load-tester plugin), external (already running)", DefaultValueFactory = _ => "engine" };
var peerNetwork = new Option<string?>("--peer-network") { Description = "an IPv4 /24 whose .1 .. .N the peers take, local to this machine: any in 127.0.0.0/8, or outside it for an edge on the TUN packet path, e.g. 198.18.0.0 after `ip route add local 198.18.0.0/15 dev lo` (default per scenario: proxied-sa 127.0.120.0, peer-initiated 127.0.130.0, esp-echo 127.0.132.0, roam 127.0.134.0)" };
var handsetPool = new Option<string>("--handset-pool") { Description = "the edge's handset pool: the remote selector a strongswan peer accepts", DefaultValueFactory = _ => "127.0.0.0/8" };
var meterSilo = new Option<string[]>("--meter-silo") { Description = "PID or PID=URL (repeatable): that silo's CPU over the load phase and, with its HTTP base address, the grain calls it received (GET /api/grain-calls), printed per silo at the end", AllowMultipleArgumentsPerToken = false };
var proxiedSa = new Command("proxied-sa", "N attached handsets each send one packet their SPD protects to a peer; the step measures the proxy request to the SA installed in the handset")
{
    edge, api, handsets, sockets, duration, rate, ramp, copies, reportDir, thresholds, naiPrefix, noLive, peers, peerPort, peerNatTPort, dh, peerKind, handsetPool, peerNetwork, hold, meterSilo,
};
proxiedSa.SetAction(async (parse, ct) =>
{
    var errors = new List<string>();
    var target = ParseTarget(parse, errors);
    var peerNet = ParsePeers(parse, parse.GetValue(peers), 1, "127.0.120.0", errors);
    if (!KeyProxy.Load.Baselines.DhGroupChoice.TryParse(parse.GetValue(dh), out var group)) errors.Add($"--dh '{parse.GetValue(dh)}' is not {KeyProxy.Load.Baselines.DhGroupChoice.Accepted}");
    if (!KeyProxy.Load.Baselines.PeerKinds.TryParse(parse.GetValue(peerKind), out var kind)) errors.Add($"--peer '{parse.GetValue(peerKind)}' is not engine, strongswan or external");
    var siloMeters = new List<KeyProxy.Load.Baselines.SiloPhaseMeter>();
    foreach (var text in parse.GetValue(meterSilo) ?? [])
        if (KeyProxy.Load.Baselines.SiloPhaseMeter.TryParse(text, out int siloPid, out var siloApi)) siloMeters.Add(new(siloPid, siloApi));
        else errors.Add($"--meter-silo '{text}' is not PID or PID=URL, e.g. 4242=https://127.0.0.1:8080");
    if (ParseLoad(parse, target, errors) is not { } load || await PortsAsync(parse, load.Api, handsetPorts: false, ct) is not { } ports
        || !TryParseHold(parse, out var holdFor)) return 1;
    int n = load.Handsets;
    await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(load.Edge, load.Api, n, SocketCount(parse, n), parse.GetValue(naiPrefix)!,
        parse.GetValue(peers), ports.PeerIke, ports.PeerNatT) { DhGroup = group, Peer = kind, HandsetPool = parse.GetValue(handsetPool)!, PeerNetwork = peerNet!, DetachAtEnd = holdFor == TimeSpan.Zero });
    var gc = new KeyProxy.Load.Baselines.GcPauseMeter();
    var (_, exitCode) = await RunAsync(parse, load, KeyProxy.Load.Baselines.LoadPhase.Measure(scenario.Build(), [gc, .. siloMeters]), ct);
    foreach (var m in siloMeters) Console.WriteLine(m.Describe());
    Console.WriteLine($"attach failures: {scenario.AttachFailures}; SAs installed at the end: {scenario.InstalledAtEnd} of {n}; "
        + $"peers: {scenario.Peers?.Established} IKE SAs, {scenario.Peers?.ChildSas} CHILD_SAs, {scenario.Peers?.EspPackets} ESP packets");
    Console.WriteLine($"load process over the load: {gc}");
    await HoldAsync(scenario.Fleet, holdFor, $"{scenario.InstalledAtEnd} handsets with their SAs", ct);
    return exitCode;
});

var peerInitiated = new Command("peer-initiated", "N attached handsets; initiator peers of our own engine start IKE towards each handset's address; the step measures the peer's IKE_SA_INIT to the SA in the handset and the peer's CHILD_SA")
{
    edge, api, handsets, sockets, duration, rate, ramp, copies, reportDir, thresholds, naiPrefix, noLive, peers, peerPort, peerNatTPort, handsetIkePort, handsetNatTPort, peerNetwork,
};
peerInitiated.SetAction(async (parse, ct) =>
{
    var errors = new List<string>();
    var target = ParseTarget(parse, errors);
    var network = ParsePeers(parse, parse.GetValue(peers), 1, "127.0.130.0", errors);
    if (ParseLoad(parse, target, errors) is not { } load || await PortsAsync(parse, load.Api, handsetPorts: true, ct) is not { } ports) return 1;
    int n = load.Handsets;
    await using var scenario = new PeerInitiatedScenario(new PeerInitiatedOptions(load.Edge, load.Api, n, SocketCount(parse, n), parse.GetValue(naiPrefix)!,
        parse.GetValue(peers), ports.PeerIke, ports.PeerNatT)
    { PeerNetwork = network!, HandsetIkePort = ports.HandsetIke, HandsetNatTPort = ports.HandsetNatT });
    var (_, exitCode) = await RunAsync(parse, load, scenario.Build(), ct);
    Console.WriteLine($"attach failures: {scenario.AttachFailures}; SAs installed at the end: {scenario.InstalledAtEnd} of {n}; "
        + $"peers: {scenario.Peers?.Established} IKE SAs, {scenario.Peers?.ChildSas} CHILD_SAs, {scenario.Peers?.Failed} failed");
    return exitCode;
});

var payload = new Option<int>("--payload") { Description = "UDP payload bytes per echoed packet (at least 8)", DefaultValueFactory = _ => 64 };
var espEcho = new Command("esp-echo", "N handsets each get a proxied SA first, then send UDP through it (ESP via the edge) to a peer that echoes it; the step measures the round trip (default: closed model, min(N, 32) copies)")
{
    edge, api, handsets, sockets, duration, rate, ramp, copies, reportDir, thresholds, naiPrefix, noLive, peers, peerPort, peerNatTPort, peerNetwork, payload,
};
espEcho.SetAction(async (parse, ct) =>
{
    var errors = new List<string>();
    var target = ParseTarget(parse, errors);
    var network = ParsePeers(parse, parse.GetValue(peers), 1, "127.0.132.0", errors);
    if (parse.GetValue(payload) is < 8 or > 60000) errors.Add("--payload must be 8 to 60000");
    // A round trip is not one per handset: without a model given, keep min(N, 32) round trips in flight.
    bool modelGiven = parse.GetValue(rate) is not null || parse.GetValue(ramp) is not null || parse.GetValue(copies) is not null;
    if (ParseLoad(parse, target, errors) is not { } load || await PortsAsync(parse, load.Api, handsetPorts: false, ct) is not { } ports) return 1;
    int n = load.Handsets;
    if (!modelGiven) load = load with { Simulation = new KeepConstant(Math.Min(n, 32), load.During) };
    await using var scenario = new EspEchoScenario(new EspEchoOptions(load.Edge, load.Api, n, SocketCount(parse, n), parse.GetValue(naiPrefix)!,
        parse.GetValue(peers), ports.PeerIke, ports.PeerNatT) { PeerNetwork = network!, PayloadBytes = parse.GetValue(payload) });
    var (run, exitCode) = await RunAsync(parse, load, scenario.Build(), ct);
    var step = run.Scenarios[0].Steps[0];
    double seconds = step.Rps > 0 ? (step.Ok + step.Failed) / step.Rps : double.NaN; // the step's RPS counts ok and failed per second of load
    Console.WriteLine($"attach failures: {scenario.AttachFailures}; SA failures: {scenario.SaFailures}; "
        + $"ESP packets through the edge: {2 * step.Ok} ({2 * step.Rps:F0}/s), access-link bytes {step.Bytes} ({step.Bytes / seconds / 1e6:F2} MB/s); "
        + $"peers echoed {scenario.Peers?.EspEchoed}");
    return exitCode;
});

var edge2 = new Option<string?>("--edge2") { Description = "edge B's access endpoint (UDP), a second edge silo of the same cluster" };
var silentRoam = new Option<bool>("--no-detach") { Description = "handsets turn up at B without detaching at A (B's attach revokes A's copy)" };
var roamPeers = new Option<int>("--peers") { Description = "responder peers for a first proxied SA through B (step first-sa); 0: no such step", DefaultValueFactory = _ => 0 };
var roam = new Command("roam", "N handsets attached at edge A re-attach at edge B; the step measures the detach at A and the attach at B to Attached (and, with --peers, the first proxied SA through B)")
{
    edge, edge2, api, handsets, sockets, duration, rate, ramp, copies, reportDir, thresholds, naiPrefix, noLive, silentRoam, roamPeers, peerPort, peerNatTPort, peerNetwork,
};
roam.SetAction(async (parse, ct) =>
{
    var errors = new List<string>();
    var target = ParseTarget(parse, errors);
    IPEndPoint? edgeB = null;
    if (parse.GetValue(edge2) is not { } e2) errors.Add("--edge2 is required: edge B's access endpoint");
    else if (!IPEndPoint.TryParse(e2, out edgeB)) errors.Add($"--edge2 '{e2}' is not an address:port");
    var network = ParsePeers(parse, parse.GetValue(roamPeers), 0, "127.0.134.0", errors);
    if (ParseLoad(parse, target, errors) is not { } load || await PortsAsync(parse, load.Api, handsetPorts: false, ct) is not { } ports) return 1;
    int n = load.Handsets;
    await using var scenario = new RoamScenario(new RoamOptions(load.Edge, edgeB!, load.Api, n, SocketCount(parse, n), parse.GetValue(naiPrefix)!)
    {
        DetachFirst = !parse.GetValue(silentRoam), Peers = parse.GetValue(roamPeers), PeerIkePort = ports.PeerIke,
        PeerNatTPort = ports.PeerNatT, PeerNetwork = network!,
    });
    var (_, exitCode) = await RunAsync(parse, load, scenario.Build(), ct);
    Console.WriteLine($"attach failures at A: {scenario.AttachFailures}; attached at B at the end: {scenario.AttachedAtB} of {n}"
        + (scenario.Peers is { } p ? $"; peers: {p.ChildSas} CHILD_SAs" : ""));
    return exitCode;
});

var count = new Option<int>("--count") { Description = "subscribers to provision", DefaultValueFactory = _ => 1000 };
var parallel = new Option<int>("--parallel") { Description = "provisioning requests in flight", DefaultValueFactory = _ => 32 };
var provision = new Command("provision", "provisions N load subscribers (PREFIX-00000i@load.keyproxy.test, as the scenarios do) through the admin API and reports the rate")
{
    api, count, parallel, naiPrefix,
};
provision.SetAction(async (parse, ct) =>
{
    if (!Uri.TryCreate(parse.GetValue(api), UriKind.Absolute, out var apiUri) || parse.GetValue(count) < 1 || parse.GetValue(parallel) < 1)
    {
        Console.Error.WriteLine("--api must be an absolute URL, --count and --parallel at least 1");
        return 1;
    }
    int n = parse.GetValue(count);
    using var admin = AdminClient.Create(apiUri);
    var clock = System.Diagnostics.Stopwatch.StartNew();
    int done = 0;
    using var progress = new Timer(_ => Console.WriteLine($"  {Volatile.Read(ref done)} of {n} after {clock.Elapsed.TotalSeconds:F0} s"), null, 10_000, 10_000);
    await Parallel.ForAsync(0, n, new ParallelOptions { MaxDegreeOfParallelism = parse.GetValue(parallel), CancellationToken = ct }, async (i, c) =>
    {
        var prefix = parse.GetValue(naiPrefix)!;
        await admin.ProvisionAsync(HandsetFleet.Nai(prefix, i), HandsetFleet.Secret(prefix, i), c);
        Interlocked.Increment(ref done);
    });
    Console.WriteLine($"provisioned {n} subscribers in {clock.Elapsed.TotalSeconds:F1} s ({n / clock.Elapsed.TotalSeconds:F0}/s)");
    return 0;
});

int SocketCount(ParseResult parse, int n) => parse.GetValue(sockets) is > 0 and var s ? s : Math.Clamp((n + 63) / 64, 1, 16);

bool Live(ParseResult parse) => !parse.GetValue(noLive) && !Console.IsOutputRedirected && !Console.IsErrorRedirected;

// The peers' count, ports and /24 (default given per scenario); problems go to errors.
IPAddress? ParsePeers(ParseResult parse, int count, int least, string defaultNetwork, List<string> errors)
{
    if (count < least || count > 254) errors.Add($"--peers must be {least} to 254");
    var text = parse.GetValue(peerNetwork) ?? defaultNetwork;
    if (!IPAddress.TryParse(text, out var network) || network.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork
        || network.GetAddressBytes()[3] != 0)
    {
        errors.Add($"--peer-network '{text}' is not an IPv4 /24 such as 127.0.130.0");
        return null;
    }
    return network;
}

// The peer (and, for peer-initiated, handset) ports: those given, the rest from the silo (GET /api/edge), so that
// the peers bind where the proxy sends with nothing to repeat; null when they cannot be had (the reasons printed).
async Task<EdgePorts?> PortsAsync(ParseResult parse, Uri api, bool handsetPorts, CancellationToken ct)
{
    var errors = new List<string>();
    int? peerIke = parse.GetValue(peerPort), peerNatT = parse.GetValue(peerNatTPort);
    int? handsetIke = handsetPorts ? parse.GetValue(handsetIkePort) : 0, handsetNatT = handsetPorts ? parse.GetValue(handsetNatTPort) : 0;
    EdgePorts? silo = null;
    if (peerIke is null || peerNatT is null || handsetIke is null || handsetNatT is null)
    {
        using var admin = AdminClient.Create(api);
        try
        {
            silo = await admin.GetEdgePortsAsync(ct);
        }
        catch (Exception e) when (e is HttpRequestException or InvalidOperationException or TaskCanceledException or System.Text.Json.JsonException)
        {
            errors.Add($"the silo at {api} did not tell its ports ({e.Message}); give --peer-port and --peer-natt-port"
                + (handsetPorts ? ", --handset-ike-port and --handset-natt-port" : ""));
            return BadArguments(errors, (EdgePorts?)null);
        }
    }
    var ports = new EdgePorts(handsetIke ?? silo!.HandsetIke, handsetNatT ?? silo!.HandsetNatT, peerIke ?? silo!.PeerIke, peerNatT ?? silo!.PeerNatT);
    foreach (var port in new[] { ports.PeerIke, ports.PeerNatT })
        if (port is < 1 or > 65535) errors.Add($"peer port {port} is out of range");
    if (handsetPorts)
        foreach (var port in new[] { ports.HandsetIke, ports.HandsetNatT })
            if (port is < 1 or > 65535) errors.Add($"handset port {port} is out of range");
    return errors.Count == 0 ? ports : BadArguments(errors, (EdgePorts?)null);
}

// What every scenario is pointed at: edge, API, duration and handsets; problems go to errors.
(IPEndPoint? Edge, Uri? Api, TimeSpan During, int Handsets) ParseTarget(ParseResult parse, List<string> errors)
{
    if (!IPEndPoint.TryParse(parse.GetValue(edge)!, out var edgeEndpoint)) errors.Add($"--edge '{parse.GetValue(edge)}' is not an address:port");
    if (!Uri.TryCreate(parse.GetValue(api), UriKind.Absolute, out var apiUri)) errors.Add($"--api '{parse.GetValue(api)}' is not an absolute URL");
    if (!CommandLineValues.TryParseDuration(parse.GetValue(duration)!, out var during)) errors.Add($"--duration '{parse.GetValue(duration)}' is not a duration like 10s");
    int n = parse.GetValue(handsets);
    if (n < 1) errors.Add("--handsets must be at least 1");
    return (edgeEndpoint, apiUri, during, n);
}

// The target with the thresholds and the load simulation; null when errors has any (found here or before), which are printed.
LoadArguments? ParseLoad(ParseResult parse, (IPEndPoint? Edge, Uri? Api, TimeSpan During, int Handsets) target, List<string> errors)
{
    var rowLength = CommandLineValues.ParseInterval(parse, interval, errors);
    var parsedThresholds = new List<Threshold>();
    foreach (var text in parse.GetValue(thresholds) ?? [])
        if (Threshold.TryParse(text, out var t, out var error)) parsedThresholds.Add(t!);
        else errors.Add(error!);
    var simulation = errors.Count == 0
        ? CommandLineValues.Simulation(parse.GetValue(rate), parse.GetValue(ramp), parse.GetValue(copies), target.Handsets, target.During, errors)
        : null;
    return errors.Count == 0 && simulation is not null
        ? new LoadArguments(target.Edge!, target.Api!, target.During, target.Handsets, parsedThresholds, simulation, rowLength)
        : BadArguments(errors, (LoadArguments?)null);
}

// Prints the problems with the command line (its exit code is then 1); returns none.
T BadArguments<T>(List<string> errors, T none)
{
    foreach (var e in errors) Console.Error.WriteLine(e);
    return none;
}

// Runs the scenario with its reports in --report-dir; the exit code: 2 when a threshold was violated.
async Task<(RunResult Run, int ExitCode)> RunAsync(ParseResult parse, LoadArguments load, Scenario scenario, CancellationToken ct)
{
    var (run, violations) = await LoadSession.RunAsync(scenario, load.Simulation, parse.GetValue(reportDir)!, load.Thresholds, Console.Out, Live(parse), ct, load.Interval);
    return (run, violations.Count == 0 ? 0 : LoadSession.ThresholdViolated);
}

var root = new RootCommand("KeyProxy load: scenarios against the edge and the proxy, NBomber-style reports") { attach, proxiedSa, peerInitiated, espEcho, roam, provision, KeyProxy.Load.Chaos.ChaosCommand.Create() };
// Admin API credentials (issue 16): options, else KEYPROXY_TOKEN / KEYPROXY_CA, else a Development-mode silo's files.
var token = new Option<string?>("--token") { Description = "admin API bearer token (default: $KEYPROXY_TOKEN, else ~/.keyproxy/development/admin.token); never printed", Recursive = true };
var ca = new Option<string?>("--ca") { Description = "PEM of the CA of the admin API's HTTPS certificate (default: $KEYPROXY_CA, else ~/.keyproxy/development/cluster-ca.pem)", Recursive = true };
root.Options.Add(interval);
root.Options.Add(token);
root.Options.Add(ca);
KeyProxy.Load.Baselines.BaselineCommands.AddTo(root, interval);
var parsed = root.Parse(args);
LoadCredentials.Set(parsed.GetValue(token), parsed.GetValue(ca));
return await parsed.InvokeAsync();

namespace KeyProxy.Load
{
    /// <summary>What every scenario command is given: edge, admin API, duration, handsets, thresholds and load model.</summary>
    internal sealed record LoadArguments(IPEndPoint Edge, Uri Api, TimeSpan During, int Handsets, List<Threshold> Thresholds, LoadSimulation Simulation, TimeSpan Interval);

    /// <summary>Parsing of the command line's durations and load simulations.</summary>
    public static class CommandLineValues
    {
        /// <summary>"10s", "500ms", "2m", or a plain number of seconds.</summary>
        public static bool TryParseDuration(string text, out TimeSpan value)
        {
            value = default;
            text = text.Trim().ToLowerInvariant();
            double scale = 1;
            if (text.EndsWith("ms", StringComparison.Ordinal)) (text, scale) = (text[..^2], 0.001);
            else if (text.EndsWith('s')) text = text[..^1];
            else if (text.EndsWith('m')) (text, scale) = (text[..^1], 60);
            if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || n <= 0 || n * scale > 86_400) return false;
            value = TimeSpan.FromSeconds(n * scale);
            return true;
        }

        /// <summary>The <c>--interval</c> option's value (the latency-over-time rows' length); a bad one goes to <paramref name="errors"/> and gives 1 s.</summary>
        public static TimeSpan ParseInterval(ParseResult parse, Option<string> option, List<string> errors)
        {
            var text = parse.GetValue(option) ?? "1s";
            if (TryParseDuration(text, out var value) && value >= TimeSpan.FromMilliseconds(10)) return value;
            errors.Add($"--interval '{text}' is not a duration of at least 10ms like 1s or 250ms");
            return StepStatistics.DefaultInterval;
        }

        /// <summary>
        /// At most one of rate, ramp and copies; none means inject <paramref name="runs"/> over the duration
        /// (so every handset gets its one run).
        /// </summary>
        public static LoadSimulation? Simulation(double? rate, string? ramp, int? copies, int runs, TimeSpan during, List<string> errors)
        {
            int given = (rate is null ? 0 : 1) + (ramp is null ? 0 : 1) + (copies is null ? 0 : 1);
            if (given > 1)
            {
                errors.Add("give at most one of --rate, --ramp and --copies");
                return null;
            }
            if (copies is { } c)
            {
                if (c >= 1) return new KeepConstant(c, during);
                errors.Add("--copies must be at least 1");
                return null;
            }
            if (ramp is not null)
            {
                var parts = ramp.Split(':');
                if (parts.Length == 2 && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
                    && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double b) && a >= 0 && b >= 0 && a + b > 0)
                    return new RampRate(a, b, during);
                errors.Add($"--ramp '{ramp}' is not A:B with rates per second, e.g. 10:200");
                return null;
            }
            double r = rate ?? runs / during.TotalSeconds;
            if (r > 0 && !double.IsInfinity(r)) return new InjectRate(r, during);
            errors.Add("--rate must be above 0");
            return null;
        }
    }
}
