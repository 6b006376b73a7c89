using System.CommandLine;
using System.Globalization;
using System.Net;
using KeyProxy.Load;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

var edge = new Option<string>("--edge") { Description = "the edge's access endpoint (UDP)", DefaultValueFactory = _ => "127.0.0.1:7400" };
var api = new Option<string>("--api") { Description = "the silo's HTTP base address (admin API under /api)", DefaultValueFactory = _ => "http://127.0.0.1:8080" };
var handsets = new Option<int>("--handsets") { Description = "simulated handsets", DefaultValueFactory = _ => 200 };
var sockets = new Option<int>("--sockets") { Description = "UDP sockets the handsets share (0: one per 64 handsets, at most 16)", DefaultValueFactory = _ => 0 };
var duration = new Option<string>("--duration") { Description = "how long the load runs: 10s, 500ms, 2m", DefaultValueFactory = _ => "10s" };
var rate = new Option<double?>("--rate") { Description = "open model: scenario runs started per second (default: handsets / duration)" };
var ramp = new Option<string?>("--ramp") { Description = "open model: rate from A to B per second over the duration, as A:B" };
var copies = new Option<int?>("--copies") { Description = "closed model: this many copies loop the scenario" };
var reportDir = new Option<string>("--report-dir") { Description = "where report.md, report.csv and report.html go", DefaultValueFactory = _ => "load-report" };
var thresholds = new Option<string[]>("--threshold") { Description = "TARGET:METRIC<VALUE, e.g. attach:p99<50ms or attach:fail<1%; violated means exit code 2", AllowMultipleArgumentsPerToken = false };
var naiPrefix = new Option<string>("--nai-prefix") { Description = "handset i is PREFIX-00000i@load.keyproxy.test", DefaultValueFactory = _ => "load" };
var noLive = new Option<bool>("--no-live") { Description = "no live progress (also off when output is redirected)" };

var attach = new Command("attach", "N simulated handsets, provisioned through the admin API, each attach once; the step measures AttachRequest to Attached")
{
    edge, api, handsets, sockets, duration, rate, ramp, copies, reportDir, thresholds, naiPrefix, noLive,
};
attach.SetAction(async (parse, ct) =>
{
    var errors = new List<string>();
    var (edgeEndpoint, apiUri, during, n) = ParseTarget(parse, errors);
    var (parsedThresholds, simulation) = ParseLoad(parse, n, during, errors);
    if (simulation is null)
    {
        foreach (var e in errors) Console.Error.WriteLine(e);
        return 1;
    }
    int socketCount = parse.GetValue(sockets) is > 0 and var s ? s : Math.Clamp((n + 63) / 64, 1, 16);
    await using var scenario = new AttachScenario(new AttachOptions(edgeEndpoint!, apiUri!, n, socketCount, parse.GetValue(naiPrefix)!));
    bool live = !parse.GetValue(noLive) && !Console.IsOutputRedirected && !Console.IsErrorRedirected;
    var (_, violations) = await LoadSession.RunAsync(scenario.Build(), simulation, parse.GetValue(reportDir)!, parsedThresholds, Console.Out, live, ct);
    Console.WriteLine($"attached at the end: {scenario.AttachedAtEnd} of {n}");
    return violations.Count == 0 ? 0 : LoadSession.ThresholdViolated;
});

var peers = new Option<int>("--peers") { Description = "IKE responder peers of our own engine on 127.0.120.1..N", DefaultValueFactory = _ => 8 };
var peerPort = new Option<int>("--peer-port") { Description = "the peers' IKE port (the silo's KeyProxy:Network:PeerIkePort)", DefaultValueFactory = _ => 10500 };
var peerNatTPort = new Option<int>("--peer-natt-port") { Description = "the peers' NAT-T port (the silo's KeyProxy:Network:PeerNatTPort)", DefaultValueFactory = _ => 14500 };
var dh = new Option<string>("--dh") { Description = "DH group of the subscribers' IKE proposal and the peers': x25519, ecp256 or modp2048", DefaultValueFactory = _ => KeyProxy.Load.Baselines.DhGroupChoice.Default };
var peerKind = new Option<string>("--peer") { Description = "the peers: engine (our IKE engine, in this process), strongswan (one charon, load-tester plugin), external (already running)", DefaultValueFactory = _ => "engine" };
var peerNetwork = new Option<string>("--peer-network") { Description = "the peers' /24 in 127.0.0.0/8 (peer i is .i)", DefaultValueFactory = _ => "127.0.120.0" };
var handsetPool = new Option<string>("--handset-pool") { Description = "the edge's handset pool: the remote selector a strongswan peer accepts", DefaultValueFactory = _ => "127.0.0.0/8" };
var proxiedSa = new Command("proxied-sa", "N attached handsets each send one packet their SPD protects to a peer; the step measures the proxy request to the SA installed in the handset")
{
    edge, api, handsets, sockets, duration, rate, ramp, copies, reportDir, thresholds, naiPrefix, noLive, peers, peerPort, peerNatTPort, dh, peerKind, handsetPool, peerNetwork,
};
proxiedSa.SetAction(async (parse, ct) =>
{
    var errors = new List<string>();
    var (edgeEndpoint, apiUri, during, n) = ParseTarget(parse, errors);
    if (parse.GetValue(peers) is < 1 or > 254) errors.Add("--peers must be 1 to 254");
    foreach (var port in new[] { parse.GetValue(peerPort), parse.GetValue(peerNatTPort) })
        if (port is < 1 or > 65535) errors.Add($"port {port} is out of range");
    if (!KeyProxy.Load.Baselines.DhGroupChoice.TryParse(parse.GetValue(dh), out var group)) errors.Add($"--dh '{parse.GetValue(dh)}' is not x25519, ecp256 or modp2048");
    if (!IPAddress.TryParse(parse.GetValue(peerNetwork), out var peerNet)) errors.Add($"--peer-network '{parse.GetValue(peerNetwork)}' is not an address");
    if (!KeyProxy.Load.Baselines.PeerKinds.TryParse(parse.GetValue(peerKind), out var kind)) errors.Add($"--peer '{parse.GetValue(peerKind)}' is not engine, strongswan or external");
    var (parsedThresholds, simulation) = ParseLoad(parse, n, during, errors);
    if (simulation is null)
    {
        foreach (var e in errors) Console.Error.WriteLine(e);
        return 1;
    }
    int socketCount = parse.GetValue(sockets) is > 0 and var s ? s : Math.Clamp((n + 63) / 64, 1, 16);
    await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(edgeEndpoint!, apiUri!, n, socketCount, parse.GetValue(naiPrefix)!,
        parse.GetValue(peers), parse.GetValue(peerPort), parse.GetValue(peerNatTPort)) { DhGroup = group, Peer = kind, HandsetPool = parse.GetValue(handsetPool)!, PeerNetwork = peerNet! });
    bool live = !parse.GetValue(noLive) && !Console.IsOutputRedirected && !Console.IsErrorRedirected;
    var (_, violations) = await LoadSession.RunAsync(scenario.Build(), simulation, parse.GetValue(reportDir)!, parsedThresholds, Console.Out, live, ct);
    Console.WriteLine($"attach failures: {scenario.AttachFailures}; SAs installed at the end: {scenario.InstalledAtEnd} of {n}; "
        + $"peers: {scenario.Peers?.Established} IKE SAs, {scenario.Peers?.ChildSas} CHILD_SAs, {scenario.Peers?.EspPackets} ESP packets");
    return violations.Count == 0 ? 0 : LoadSession.ThresholdViolated;
});

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

// The thresholds and the load simulation; the simulation is null when any error was found (then errors says why).
(List<Threshold> Thresholds, LoadSimulation? Simulation) ParseLoad(ParseResult parse, int n, TimeSpan during, List<string> errors)
{
    var parsedThresholds = new List<Threshold>();
    foreach (var text in parse.GetValue(thresholds) ?? [])
        if (Threshold.TryParse(text, out var t, out var error)) parsedThresholds.Add(t!);
        else errors.Add(error!);
    var simulation = errors.Count == 0
        ? CommandLineValues.Simulation(parse.GetValue(rate), parse.GetValue(ramp), parse.GetValue(copies), n, during, errors)
        : null;
    return (parsedThresholds, errors.Count == 0 ? simulation : null);
}

var root = new RootCommand("KeyProxy load: scenarios against the edge and the proxy, NBomber-style reports") { attach, proxiedSa };
KeyProxy.Load.Baselines.BaselineCommands.AddTo(root);
return await root.Parse(args).InvokeAsync();

namespace KeyProxy.Load
{
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
