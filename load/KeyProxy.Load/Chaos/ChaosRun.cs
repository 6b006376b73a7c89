using System.Diagnostics;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Reports;

namespace KeyProxy.Load.Chaos;

/// <summary>
/// One soak from start to report: the cluster up, its idle figures, the fleets attached, then the load, the injector
/// and the invariant checks side by side for the duration; afterwards the SAs given the bound to settle, every
/// profile read back, the handsets detached and the cluster given time to come back to its idle figures.
/// </summary>
public sealed class ChaosRun(ChaosCluster cluster, FaultPlan plan, ChaosLoadOptions loadOptions, string reportDir, bool keepCluster, TextWriter output)
{
    /// <summary>How long the cluster gets after the handsets detached to be back at its idle figures.</summary>
    public static readonly TimeSpan IdleWait = TimeSpan.FromSeconds(90);

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var started = DateTimeOffset.UtcNow;
        Say($"chaos soak: seed {plan.Seed}, load for {plan.Duration.TotalSeconds:F0} s, faults every {plan.GapMin.TotalSeconds:F0}-{plan.GapMax.TotalSeconds:F0} s"
            + $" ({string.Join(", ", plan.Mix.Select(m => $"{m.Key} {m.Value}"))}; required: {(plan.Required.Count == 0 ? "none" : string.Join(", ", plan.Required.Select(r => $"{r.Value} {r.Key}")))})");
        foreach (var line in ChaosSettings.Describe()) Say(line);
        Say($"cluster {cluster.ClusterId} in {cluster.Directory} (silo logs there: edge-a.log, edge-b.log, core.log, core-2.log and earlier runs as NAME.<ms>.log)");
        var clock = Stopwatch.StartNew();
        try
        {
            await ClearAsync();
            await cluster.StartAsync(ct);
        }
        catch (InvalidOperationException e)
        {
            Say("the cluster did not start: " + e.Message);
            await StopAsync();
            return 1;
        }
        Say($"cluster up in {clock.Elapsed.TotalSeconds:F1} s");
        await using var membership = new MembershipWatch(cluster);
        var observations = new Observations();
        int exit;
        ChaosLoad? load = null;
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3), ct); // the membership read once before the first fault
            var idle = await IdleLevel.ReadAsync(cluster, ct);
            Say("idle: " + idle);
            // The peers' SAs, where the checks look for each handset SA's other half: filled once the load started them.
            var peersByAddress = new Dictionary<System.Net.IPAddress, Peers.EspEcho>();
            var invariants = new Invariants(peersByAddress, ChaosSettings.OneSidedBound);
            load = new ChaosLoad(loadOptions, cluster, observations, invariants);
            await load.InitAsync(ct);
            foreach (var (address, echo) in load.PeerSas()) peersByAddress[address] = echo;
            Say($"{load.Attached} handsets attached; load starts");

            var loadStart = DateTimeOffset.UtcNow;
            var until = loadStart + plan.Duration;
            var injector = new FaultInjector(cluster, membership, plan, output);
            using var stopChecks = new CancellationTokenSource();
            var checks = Task.Run(() => CheckLoopAsync(load, invariants, stopChecks.Token), CancellationToken.None);
            var keepAttached = Task.Run(() => load.KeepAttachedAsync(stopChecks.Token), CancellationToken.None);
            var runners = load.Scenarios().Select(s => (s.Scenario, Runner: new ScenarioRunner())).ToList();
            var loads = runners.Select(r => r.Runner.RunAsync(r.Scenario, new InjectRate(Rate(r.Scenario.Name), plan.Duration), ct)).ToList();
            var faults = injector.RunAsync(until, ct);
            var progress = Task.Run(async () =>
            {
                while (!Task.WhenAll(loads).IsCompleted)
                {
                    try { await Task.Delay(TimeSpan.FromSeconds(15), ct); } catch (OperationCanceledException) { return; }
                    Say($"{(DateTimeOffset.UtcNow - loadStart).TotalSeconds:F0} s: {string.Join(", ", runners.Select(r => $"{r.Scenario.Name} {Ok(r.Runner)}"))}; "
                        + $"attached {load.Attached}; SAs one-sided now {invariants.OpenCount}; breaches {invariants.Breaches.Count}; faults {injector.Faults.Count}");
                }
            }, CancellationToken.None);
            var stats = await Task.WhenAll(loads);
            await faults;
            var loadEnd = DateTimeOffset.UtcNow;
            await progress;
            Say($"load over after {(loadEnd - loadStart).TotalSeconds:F0} s; {injector.Faults.Count} faults");

            // Every one-sided SA gets the bound to settle; the checks go on meanwhile (a breach is counted as it passes).
            var settleDeadline = DateTimeOffset.UtcNow + ChaosSettings.OneSidedBound + TimeSpan.FromSeconds(2);
            while (DateTimeOffset.UtcNow < settleDeadline && invariants.OpenCount > 0) await Task.Delay(500, ct);
            var settled = DateTimeOffset.UtcNow - loadEnd;
            await stopChecks.CancelAsync();
            await checks;
            await keepAttached;
            invariants.CheckSaHalves(load.Handsets, DateTimeOffset.UtcNow);
            int openAtEnd = invariants.OpenCount;
            Say($"after the load: SAs one-sided {openAtEnd} ({settled.TotalSeconds:F1} s after it)");

            // Profiles: every acknowledged PUT readable.
            var (profiles, lost) = await ProfilesAsync(load.Provisioned, invariants, ct);
            long replayed = load.KeyTransfersReplayed;
            if (replayed > 0) invariants.Add("key-transfers-replayed", $"handsets counted {replayed} key transfers with a counter seen before");

            // Back to idle: detach everything, then routes, attachments and proxy sessions back to the idle figures.
            await load.DetachAllAsync();
            long exchanges = stats.Where(st => st.Name is "flow1-sa" or "flow2-sa").Sum(st => st.Steps[0].Ok + st.Steps[0].Failed);
            var (after, idleTook, idleOk) = await IdleAsync(idle, SessionsAllowed(exchanges), invariants, ct);
            Say("after the load, detached: " + after);

            for (int i = 0; i < injector.Faults.Count; i++)
                Attribute(injector.Faults[i], i + 1 < injector.Faults.Count ? injector.Faults[i + 1].Start : DateTimeOffset.MaxValue, observations, invariants);
            var missing = plan.Required.Where(r => injector.Faults.Count(f => f.Kind == r.Key && f.Error is null) < r.Value)
                .Select(r => $"{r.Value} {r.Key} required, {injector.Faults.Count(f => f.Kind == r.Key && f.Error is null)} done").ToList();
            foreach (var f in injector.Faults.Where(f => f.Error is not null)) invariants.Add("fault-run", $"fault {f.Number} {f.Kind} {f.Target}: {f.Error}", f.Start);
            var episodes = invariants.Episodes(DateTimeOffset.UtcNow);
            var rows = new List<InvariantRow>
            {
                new("sa-halves", $"every handset SA's other half at its peer within {ChaosSettings.OneSidedBound.TotalSeconds:F0} s; {invariants.SasChecked} SA checks",
                    Count(invariants, "sa-halves"), $"{episodes.Count} one-sided episodes, longest {(episodes.Count == 0 ? 0 : episodes.Max(e => (e.End - e.Start).TotalSeconds)):F1} s; {openAtEnd} at the end"),
                new("proxy-answered", $"every proxy request of a handset attached throughout answered (SA or refusal) within {ChaosSettings.ProxyAnswerBound.TotalSeconds:F0} s",
                    Count(invariants, "proxy-answered"), $"{stats.First(s => s.Name == "flow1-sa").Steps[0].Ok} SAs, {stats.First(s => s.Name == "flow1-sa").Steps[0].Failed} not (refused or attachment ended)"),
                new("key-transfers-replayed", "handsets' KeyTransfersReplayed", Count(invariants, "key-transfers-replayed"),
                    $"{replayed} replayed; {load.KeyTransfersInstalled} SAs installed by key transfer; {load.KeyTransfersRejected} rejected"),
                new("profiles-lost", "every profile whose PUT was acknowledged readable at the end", Count(invariants, "profiles-lost"), $"{profiles} read, {lost} lost"),
                new("idle-level", $"after detaching: routes and attachments 0, proxy session activations at most the idle count + 2% of the exchanges, GC heap within 128 MiB of idle, within {IdleWait.TotalSeconds:F0} s",
                    Count(invariants, "idle-level"), idleOk ? $"back after {idleTook.TotalSeconds:F1} s: {after}" : $"not back after {idleTook.TotalSeconds:F1} s: {after}"),
                new("fault-run", "every fault ran (silo and storage started again)", Count(invariants, "fault-run"), $"{injector.Faults.Count} faults"),
            };
            var header = $"Seed {plan.Seed}; load {plan.Duration.TotalSeconds:F0} s from {loadStart:yyyy-MM-dd HH:mm:ss} UTC; {injector.Faults.Count} faults "
                + $"({string.Join(", ", injector.Faults.GroupBy(f => f.Kind).Select(g => $"{g.Count()} {g.Key}"))}). "
                + $"Bound on a one-sided SA {ChaosSettings.OneSidedBound.TotalSeconds:F0} s ({string.Join("; ", ChaosSettings.Describe())}). "
                + $"A fault's window runs from its start to its end plus the bound, or to the next fault's start if sooner; what began in it is counted against it. Silo logs: {cluster.Directory}.";
            var notes = new List<string> { "## Load", "", $"Rates per second: flow 1 {loadOptions.Flow1Rate}, flow 2 {loadOptions.Flow2Rate}, ESP echo {loadOptions.EspRate}, roam {loadOptions.RoamRate}, provision {loadOptions.ProvisionRate}; idle before: {idle}. "
                + $"Attaches the soak started again for handsets that had given up: {load.Reattached}.", "" };
            foreach (var s in stats)
                foreach (var step in s.Steps)
                    notes.Add($"- {step.Name}: {step.Ok} ok, {step.Failed} failed{(step.Failed > 0 ? " (" + string.Join(", ", step.Failures.OrderByDescending(c => c.Value).Take(6).Select(c => $"{c.Key} {c.Value}")) + ")" : "")}");
            if (missing.Count > 0) notes.AddRange(["", "Required faults missing: " + string.Join("; ", missing)]);
            var files = ChaosReport.Write(reportDir, header, injector.Faults, rows, invariants.Breaches, notes);
            var loadFiles = ReportWriter.WriteAll(new RunResult("KeyProxy load: chaos", loadStart, stats), reportDir);
            Say("reports: " + string.Join(", ", files.Concat(loadFiles)));
            foreach (var r in rows) Say($"invariant {r.Name}: {r.Breaches} breaches; {r.Figure}");
            foreach (var b in invariants.Breaches.OrderBy(b => b.At)) Say($"BREACH {b.At:HH:mm:ss.fff} {b.Invariant}: {b.Detail}");
            foreach (var m in missing) Say("MISSING FAULT " + m);
            exit = invariants.Breaches.Count == 0 && missing.Count == 0 ? 0 : ChaosCommand.Breached;
        }
        catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
        {
            Say("the soak could not run: " + e.Message);
            exit = 1;
        }
        finally
        {
            if (load is not null) await load.DisposeAsync();
        }
        if (exit != 0) PrintLogs();
        if (!keepCluster) await StopAsync();
        Say($"chaos soak {(exit == 0 ? "passed" : "FAILED")} in {(DateTimeOffset.UtcNow - started).TotalMinutes:F1} min; silo logs in {cluster.Directory}");
        return exit;
    }

    private double Rate(string scenario) => scenario switch
    {
        "flow1-sa" => loadOptions.Flow1Rate,
        "flow2-sa" => loadOptions.Flow2Rate,
        "esp-echo" => loadOptions.EspRate,
        "roam" => loadOptions.RoamRate,
        _ => loadOptions.ProvisionRate,
    };

    private static string Ok(ScenarioRunner runner)
    {
        long ok = 0, failed = 0;
        foreach (var s in runner.Live) { ok += s.Ok; failed += s.Failed; }
        return $"{ok}/{ok + failed}";
    }

    private static int Count(Invariants invariants, string name) => invariants.Breaches.Count(b => b.Invariant == name);

    private static async Task CheckLoopAsync(ChaosLoad load, Invariants invariants, CancellationToken ct)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await tick.WaitForNextTickAsync(ct)) invariants.CheckSaHalves(load.Handsets, DateTimeOffset.UtcNow);
        }
        catch (OperationCanceledException) { }
    }

    /// <summary>Each fault's share of what was seen, within its window (start to end plus the bound, or to the next fault's start if sooner).</summary>
    private static void Attribute(FaultRecord f, DateTimeOffset next, Observations observations, Invariants invariants)
    {
        var to = f.End + ChaosSettings.OneSidedBound;
        if (next < to) to = next;
        f.WindowEnd = to;
        f.ProvisionsFailed = observations.Count(Observations.Kind.ProvisionFailed, f.Start, to);
        f.ExchangesRetried = observations.Count(Observations.Kind.ProxyRetry, f.Start, to);
        f.ExchangesFailed = observations.Count(Observations.Kind.ExchangeFailed, f.Start, to);
        f.EspLost = observations.Count(Observations.Kind.EspLost, f.Start, to);
        var episodes = invariants.Episodes(DateTimeOffset.UtcNow).Where(e => e.Start >= f.Start && e.Start <= to).ToList();
        f.OneSidedSas = episodes.Count;
        f.OneSidedLongest = episodes.Count == 0 ? TimeSpan.Zero : episodes.Max(e => e.End - e.Start);
    }

    /// <summary>Reads every acknowledged profile back through any silo that answers; a 404 is a lost profile.</summary>
    private async Task<(int Read, int Lost)> ProfilesAsync(IReadOnlyCollection<string> nais, Invariants invariants, CancellationToken ct)
    {
        int read = 0, lost = 0;
        foreach (var nai in nais)
        {
            bool answered = false;
            foreach (var silo in cluster.Silos)
            {
                try
                {
                    using var http = Scenarios.LoadCredentials.Client(silo.Api, TimeSpan.FromSeconds(10));
                    using var response = await http.GetAsync("api/subscribers/" + Uri.EscapeDataString(nai), ct);
                    if ((int)response.StatusCode >= 500) continue;
                    answered = true;
                    if (response.IsSuccessStatusCode) read++;
                    else
                    {
                        lost++;
                        invariants.Add("profiles-lost", $"{nai}: GET at {silo.Name} answered {(int)response.StatusCode} though its PUT was acknowledged");
                    }
                    break;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                }
            }
            if (!answered) invariants.Add("profiles-lost", $"{nai}: no silo answered its GET");
        }
        return (read, lost);
    }

    /// <summary>Waits until routes and attachments are 0 and proxy sessions are back to the idle count; the heap is then compared.</summary>
    private async Task<(IdleLevel After, TimeSpan Took, bool Ok)> IdleAsync(IdleLevel idle, long sessionsAllowed, Invariants invariants, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        IdleLevel after;
        string problem;
        while (true)
        {
            after = await IdleLevel.ReadAsync(cluster, ct);
            problem = IdleProblem(idle, after, sessionsAllowed);
            if (problem.Length == 0 || clock.Elapsed > IdleWait) break;
            await Task.Delay(2000, ct);
        }
        if (problem.Length > 0) invariants.Add("idle-level", problem);
        return (after, clock.Elapsed, problem.Length == 0);
    }

    /// <summary>Gen0's budget in the silos (DOTNET_GCgen0size, cluster.sh): a heap may hold that much not yet collected.</summary>
    private const long Gen0Budget = 128L << 20;

    /// <summary>
    /// "About" the idle level for proxy session activations: the idle count plus 2% of the exchanges of the run (at least
    /// 2). A session's activation ends when it closes or finds itself fresh, but an activation a silo's death left behind
    /// may wait for Orleans' idle collection; each one left is reported.
    /// </summary>
    public static long SessionsAllowed(long exchanges) => Math.Max(2, exchanges / 50);

    private static string IdleProblem(IdleLevel idle, IdleLevel after, long sessionsAllowed)
    {
        var problems = new List<string>();
        foreach (var (name, edge) in after.Edges)
        {
            if (edge.Attached != 0 || edge.Routes != 0) problems.Add($"{name}: attached {edge.Attached}, routes {edge.Routes}");
            if (idle.Edges.TryGetValue(name, out var before) && edge.GcHeapBytes > before.GcHeapBytes + Gen0Budget)
                problems.Add($"{name}: GC heap {edge.GcHeapBytes >> 20} MiB, idle {before.GcHeapBytes >> 20} MiB");
        }
        if (after.Edges.Count < 2) problems.Add($"only {after.Edges.Count} edges answered ({string.Join("; ", after.Errors)})");
        long sessions = after.ActivationsOf("ProxySessionGrain"), sessionsIdle = idle.ActivationsOf("ProxySessionGrain");
        if (sessions > sessionsIdle + sessionsAllowed) problems.Add($"proxy session activations {sessions}, idle {sessionsIdle} (+{sessionsAllowed} allowed)");
        return string.Join("; ", problems);
    }

    private void PrintLogs()
    {
        Say($"silo logs (last lines; whole files in {cluster.Directory}):");
        foreach (var silo in cluster.Silos)
        {
            var path = cluster.LogPath(silo.Name);
            if (!File.Exists(path)) continue;
            var lines = File.ReadAllLines(path);
            Say($"--- {path} ({lines.Length} lines)");
            foreach (var l in lines.TakeLast(15)) output.WriteLine("    " + l);
        }
    }

    /// <summary>
    /// A soak starts from nothing: a cluster left running in the directory (an interrupted soak) is stopped, and the earlier
    /// run's silo logs, pid files and Azurite data are removed, so the logs in the directory are this run's.
    /// </summary>
    private async Task ClearAsync()
    {
        if (!Directory.Exists(cluster.Directory)) return;
        if (File.Exists(Path.Combine(cluster.Directory, "cluster.env"))) await StopAsync();
        foreach (var pattern in new[] { "*.log", "*.pid" })
            foreach (var file in Directory.GetFiles(cluster.Directory, pattern)) File.Delete(file);
        var data = Path.Combine(cluster.Directory, "azurite", "data");
        if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
    }

    private async Task StopAsync()
    {
        try { await cluster.StopAsync(CancellationToken.None); }
        catch (InvalidOperationException e) { Say("stopping the cluster: " + e.Message); }
    }

    private void Say(string line)
    {
        lock (output) output.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}");
    }
}
