using System.Globalization;
using System.Net;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;
using KeyProxy.Primitives;

namespace KeyProxy.Load.Baselines;

/// <summary>What <c>compare</c> runs; the defaults are this tool's own ports, pool and peer addresses.</summary>
public sealed record CompareOptions
{
    public IReadOnlyList<string> Groups { get; init; } = DhGroupChoice.All;
    public int Handsets { get; init; } = 300;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(15);
    /// <summary>IKE SAs in flight in every system (closed model: each of this many copies starts the next when its SA is done).</summary>
    public int Concurrency { get; init; } = 32;
    public string ReportDir { get; init; } = "compare-report";
    public string SiloDll { get; init; } = "src/KeyProxy.Silo/bin/Release/net10.0/KeyProxy.Silo.dll";
    public string HttpUrl { get; init; } = "https://127.0.0.1:28080";
    public string AccessEndpoint { get; init; } = "127.0.0.1:27400";
    public int SiloPort { get; init; } = 22111;
    public int GatewayPort { get; init; } = 32000;
    public string Pool { get; init; } = "127.3.0.0/18";
    public IPAddress PeerNetwork { get; init; } = IPAddress.Parse("127.0.140.0");
    public int Peers { get; init; } = 8;
    public int PeerIkePort { get; init; } = 20500;
    public int PeerNatTPort { get; init; } = 24500;
    /// <summary>SAs made before each measured proxied-sa and engine-sa run, not counted (JIT, connection set-up, first activations).</summary>
    public int Warmup { get; init; } = 100;

    /// <summary>Length of the latency-over-time rows in each run's reports.</summary>
    public TimeSpan Interval { get; init; } = StepStatistics.DefaultInterval;

    /// <summary>Skips charon to charon (<c>--no-charon</c>): proxied against engine only, for A/B runs of the proxy's own path.</summary>
    public bool SkipCharon { get; init; }

    /// <summary>
    /// The silo's environment: a gen0 budget of 128 MiB (docs/PERFORMANCE.md: fewer collections, +12% SAs/s and half the
    /// p99 under saturation on the 2-core machine; the runtime reads it only from the environment).
    /// </summary>
    public IReadOnlyDictionary<string, string> SiloEnvironment { get; init; } = new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x8000000" };

    /// <summary>Where engine-sa's handsets bind (a /24 in 127/8 outside the pool).</summary>
    public IPAddress EngineHandsetNetwork { get; init; } = IPAddress.Parse("127.0.150.0");
}

/// <summary>
/// <c>compare</c>: for each DH group, back to back in one run, the same N IKE SAs at the same concurrency through
/// (1) the proxy: a silo child process (embedded cluster, its edge) and <c>proxied-sa</c>, CPU = the silo's;
/// (2) <c>engine-sa</c>: handsets doing their own IKE with our engine in this process, CPU = this process's;
/// (3) charon to charon with the load-tester plugin, CPU = both charons'. (1) and (2) share one set of engine
/// responder peers in a child process of their own (<c>keyproxy-load peers</c>), whose CPU is reported apart.
/// </summary>
public sealed class CompareRunner(CompareOptions options, TextWriter output)
{
    public const string Method = """
        Each system makes the same number of IKE SAs (IKE_SA_INIT + IKE_AUTH with one CHILD_SA, PSK,
        aes128gcm16-prfsha256-GROUP, ESP aes128gcm16 without PFS) with the same number in flight (closed model),
        back to back in one run on this machine. SAs/s = established SAs / load time; latency per SA:
        proxied-sa from the handset's proxy request to the key transfer installed in the handset; engine-sa from
        IKE_SA_INIT sent to the CHILD_SA established; charon-to-charon from the load-tester control request to
        IKE_ESTABLISHED ('+'). CPU (utime+stime from /proc, or this process's TotalProcessorTime) over the load
        phase only: proxied-sa = the silo process (edge, grains, IKE, DH); engine-sa = the load process (the
        handsets' own IKE); charon-to-charon = initiator + responder charon. handset CPU = the load process
        (simulated handsets: for proxied-sa no DH at all), peer CPU = the responder side (engine peers child process,
        or the responder charon). charon runs with the load-tester's fake kernel interface (no kernel SAs).
        One silo child process (DOTNET_GCgen0size=0x8000000, see PERFORMANCE.md) serves every group; before each measured proxied-sa and engine-sa run a warm-up
        run of the same kind (other subscribers) is made and not counted.
        """;

    private string LoadDll => typeof(CompareRunner).Assembly.Location;

    public async Task<IReadOnlyList<ComparisonRow>> RunAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(options.ReportDir);
        var rows = new List<ComparisonRow>();
        await using var silo = await StartSiloAsync(ct);
        foreach (var group in options.Groups)
        {
            await using (var peers = await StartPeersAsync(group, ct))
            {
                if (options.Warmup > 0) await ProxiedAsync(group, silo, peers, options.Warmup, warmup: true, ct);
                rows.Add(await ProxiedAsync(group, silo, peers, options.Handsets, warmup: false, ct));
                if (options.Warmup > 0) await EngineAsync(group, peers, options.Warmup, warmup: true, ct);
                rows.Add(await EngineAsync(group, peers, options.Handsets, warmup: false, ct));
            }
            if (!options.SkipCharon) rows.Add(await CharonAsync(group, ct));
            Write(rows);
        }
        return rows;
    }

    private void Write(IReadOnlyList<ComparisonRow> rows)
    {
        File.WriteAllText(Path.Combine(options.ReportDir, "compare.md"), ComparisonReport.RenderMarkdown(rows, Method));
        File.WriteAllText(Path.Combine(options.ReportDir, "compare.csv"), ComparisonReport.RenderCsv(rows));
    }

    private LoadSimulation Simulation => new KeepConstant(options.Concurrency, options.Duration);

    private async Task<ChildProcess> StartPeersAsync(string group, CancellationToken ct)
    {
        var peers = ChildProcess.Start("dotnet",
        [
            LoadDll, "peers", "--dh", group, "--peers", options.Peers.ToString(CultureInfo.InvariantCulture),
            "--peer-network", options.PeerNetwork.ToString(), "--peer-port", options.PeerIkePort.ToString(CultureInfo.InvariantCulture),
            "--peer-natt-port", options.PeerNatTPort.ToString(CultureInfo.InvariantCulture),
        ], readyLine: PeersCommand.ReadyLine);
        try { await peers.WaitReadyAsync(TimeSpan.FromSeconds(30), ct); }
        catch { await peers.DisposeAsync(); throw; }
        return peers;
    }

    /// <summary>One silo for the whole comparison (each group and warm-up uses its own subscribers).</summary>
    private async Task<ChildProcess> StartSiloAsync(CancellationToken ct)
    {
        if (!File.Exists(options.SiloDll))
            throw new InvalidOperationException($"{options.SiloDll} not found: dotnet build src/KeyProxy.Silo -c Release");
        var silo = ChildProcess.Start("dotnet",
        [
            options.SiloDll, $"--KeyProxy:HttpUrl={options.HttpUrl}", $"--KeyProxy:SiloPort={options.SiloPort}",
            $"--KeyProxy:GatewayPort={options.GatewayPort}", $"--KeyProxy:ClusterId=kpbase-{Environment.ProcessId}",
            "--KeyProxy:EdgeId=kpbase-edge", "--KeyProxy:DemoSubscribers=false",
            $"--KeyProxy:Edge:AccessEndpoint={options.AccessEndpoint}", $"--KeyProxy:Edge:AddressPool={options.Pool}",
            $"--KeyProxy:Network:PeerIkePort={options.PeerIkePort}", $"--KeyProxy:Network:PeerNatTPort={options.PeerNatTPort}",
            "--Logging:LogLevel:Default=Warning",
        ], environment: options.SiloEnvironment);
        try { await WaitForApiAsync(Api, silo, ct); }
        catch { await silo.DisposeAsync(); throw; }
        return silo;
    }

    private Uri Api => new(options.HttpUrl.TrimEnd('/') + "/");

    private async Task<ComparisonRow> ProxiedAsync(string group, ChildProcess silo, ChildProcess peers, int n, bool warmup, CancellationToken ct)
    {
        var api = Api;
        await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(IPEndPoint.Parse(options.AccessEndpoint), api, n,
            Math.Clamp((n + 63) / 64, 1, 16), warmup ? $"kpbase-warm-{group}" : $"kpbase-{group}", options.Peers, options.PeerIkePort, options.PeerNatTPort)
        {
            PeerNetwork = options.PeerNetwork, DhGroup = group, Peer = PeerKind.External, HandsetPool = options.Pool,
        });
        var siloCpu = CpuMeter.Of(() => [silo.Pid]);
        var self = CpuMeter.Self();
        var peerCpu = CpuMeter.Of(() => [peers.Pid]);
        var calls = new GrainCallMeter(api);
        var (run, _) = await LoadSession.RunAsync(LoadPhase.Measure(scenario.Build(), siloCpu, self, peerCpu, calls), Simulation,
            Path.Combine(options.ReportDir, group, warmup ? "warmup-proxied-sa" : "proxied-sa"), [], output, live: false, ct, options.Interval);
        output.WriteLine($"proxied-sa {group}{(warmup ? " (warm-up)" : "")}: attach failures {scenario.AttachFailures}, SAs installed {scenario.InstalledAtEnd} of {n}");
        return ComparisonRow.From(group, ComparisonRow.Proxied, run.Scenarios[0], siloCpu.Used, "silo process", self.Used, peerCpu.Used, calls);
    }

    private async Task<ComparisonRow> EngineAsync(string group, ChildProcess peers, int n, bool warmup, CancellationToken ct)
    {
        await using var scenario = new EngineSaScenario(new EngineSaOptions(n, options.Peers, options.PeerIkePort, options.PeerNatTPort, group)
        {
            PeerNetwork = options.PeerNetwork, HandsetNetwork = options.EngineHandsetNetwork, ExternalPeers = true,
        });
        var self = CpuMeter.Self();
        var peerCpu = CpuMeter.Of(() => [peers.Pid]);
        var (run, _) = await LoadSession.RunAsync(LoadPhase.Measure(scenario.Build(), self, peerCpu), Simulation,
            Path.Combine(options.ReportDir, group, warmup ? "warmup-engine-sa" : "engine-sa"), [], output, live: false, ct, options.Interval);
        return ComparisonRow.From(group, ComparisonRow.Engine, run.Scenarios[0], self.Used, "load process (handsets)", self.Used, peerCpu.Used);
    }

    private async Task<ComparisonRow> CharonAsync(string group, CancellationToken ct)
    {
        var work = Path.Combine(Path.GetTempPath(), $"kpbase-c2c-{Environment.ProcessId}-{group}");
        await using var scenario = new CharonBaselineScenario(new CharonBaselineOptions(group, options.Handsets, work) { MaxConcurrency = options.Concurrency });
        var both = CpuMeter.Of(() => [scenario.InitiatorPid, scenario.ResponderPid]);
        var initiator = CpuMeter.Of(() => [scenario.InitiatorPid]);
        var responder = CpuMeter.Of(() => [scenario.ResponderPid]);
        var (run, _) = await LoadSession.RunAsync(LoadPhase.Measure(scenario.Build(), both, initiator, responder), Simulation,
            Path.Combine(options.ReportDir, group, "charon-to-charon"), [], output, live: false, ct, options.Interval);
        output.WriteLine($"charon-to-charon {group}: {scenario.Retransmits} retransmissions");
        return ComparisonRow.From(group, ComparisonRow.Charon, run.Scenarios[0], both.Used, "both charons", initiator.Used, responder.Used);
    }

    private static async Task WaitForApiAsync(Uri api, ChildProcess silo, CancellationToken ct)
    {
        using var http = Scenarios.LoadCredentials.Client(api, TimeSpan.FromSeconds(2));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            if (silo.HasExited) throw new InvalidOperationException("the silo exited: " + silo.Tail);
            try
            {
                using var response = await http.GetAsync("api/subscribers", ct);
                if ((int)response.StatusCode < 500) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            if (DateTime.UtcNow > deadline) throw new TimeoutException("the silo's API did not answer: " + silo.Tail);
            await Task.Delay(250, ct);
        }
    }
}
