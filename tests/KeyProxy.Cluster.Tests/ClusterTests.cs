using System.Diagnostics;
using System.Text.Json.Nodes;
using KeyProxy.Handset;
using Orleans.Runtime;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Issue 6, the cluster part: three silo processes (edge-a, edge-b, core) on Azurite, handsets proxied with each
/// other across the two edges (flow 3), a kill -9 of the core silo while exchanges run, and a whole-cluster restart.
/// The figures (start time, failure detection, retries) are printed.
/// </summary>
public sealed class ClusterTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Three_silos_on_Azurite_show_each_other_and_handsets_on_both_edges_complete_a_proxied_exchange()
    {
        var ct = TestContext.Current.CancellationToken;
        const string poolA = "127.0.81.0/24", poolB = "127.0.82.0/24";
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("three"), poolA, poolB);
        var startTime = await cluster.StartAsync();
        Report($"cluster start (first process start to all three ready lines): {startTime.TotalMilliseconds:F0} ms; " +
            $"until every silo's dashboard shows all three Active: {cluster.Converged.TotalMilliseconds:F0} ms; silo logs in {cluster.LogDirectory}");

        // The dashboard of every silo lists every silo, through Orleans membership.
        foreach (var silo in cluster.Running)
        {
            using var http = cluster.Http(silo);
            var counters = JsonNode.Parse(await http.GetStringAsync("/dashboard/DashboardCounters", ct))!;
            var active = counters["hosts"]!.AsArray().Where(h => (string?)h!["status"] == "Active").Select(h => (string)h!["siloName"]!).Order().ToArray();
            Assert.True(active.SequenceEqual(["core", "edge-a", "edge-b"]), $"dashboard of {silo.Name} lists {string.Join(", ", active)}; silo logs in {cluster.LogDirectory}");
        }

        // Alice provisioned through the core silo, bob through edge-b: the profiles live in Azure Table storage.
        using (var core = cluster.Http(cluster.Core))
        {
            await Subscribers.ProvisionAsync(core, HandsetPair.AliceName("a", 0), poolB, ct);
        }

        using (var edgeB = cluster.Http(cluster.EdgeB))
        {
            await Subscribers.ProvisionAsync(edgeB, HandsetPair.BobName("a", 0), poolA, ct);
        }

        await using var pair = HandsetPair.Create("a", 0, cluster, poolA, poolB);
        await pair.AttachAsync(AttachTimeout);
        var clock = Stopwatch.StartNew();
        pair.SendFirst("hello bob, from edge-a");
        await cluster.ExplainTimeoutAsync(pair.CompleteAsync("hello bob, from edge-a", TimeSpan.FromSeconds(30)));
        Report($"first proxied exchange across the two edges (both SAs, ESP both ways): {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Kill_9_of_the_core_silo_during_exchanges_leaves_every_handset_with_an_SA_loses_no_profile_and_is_declared_dead_within_10_s()
    {
        var ct = TestContext.Current.CancellationToken;
        const string poolA = "127.0.83.0/24", poolB = "127.0.84.0/24";
        const int pairs = 10;
        // Short leases and liveness (FaultSettings): a pair whose initiator session died with the core after its exchange
        // keeps bob's half until his session's liveness check notices; the bound is derived there.
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("kill"), poolA, poolB, FaultSettings.ShortLeases);
        var startTime = await cluster.StartAsync();
        Report($"cluster start: {startTime.TotalMilliseconds:F0} ms");

        // Provisioned through all three silos in turn.
        var silos = new[] { cluster.EdgeA, cluster.EdgeB, cluster.Core };
        var nais = new List<string>();
        for (int i = 0; i < pairs; i++)
        {
            using var http = cluster.Http(silos[i % 3]);
            await Subscribers.ProvisionAsync(http, HandsetPair.AliceName("k", i), poolB, ct);
            await Subscribers.ProvisionAsync(http, HandsetPair.BobName("k", i), poolA, ct);
            nais.Add(HandsetPair.AliceName("k", i));
            nais.Add(HandsetPair.BobName("k", i));
        }

        // A request retried every few seconds for about a minute: long enough to outlast the failure detection.
        var retry = new RequestRetryPolicy(TimeSpan.FromSeconds(2), 1.5, 8);
        var handsets = Enumerable.Range(0, pairs).Select(i => HandsetPair.Create("k", i, cluster, poolA, poolB, retry)).ToList();
        try
        {
            await Task.WhenAll(handsets.Select(p => p.AttachAsync(AttachTimeout)));
            foreach (var (p, i) in handsets.Select((p, i) => (p, i)))
            {
                p.SendFirst($"pair {i} through a dying silo");
            }

            // Right after the first packets, while IKE runs: wait only until the core silo has a proxy session.
            var wait = Stopwatch.StartNew();
            while (!cluster.Core.Output.Contains(" starts as ", StringComparison.Ordinal) && wait.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(5, ct);
            }

            var sessionsOnCore = cluster.Core.Output.Split('\n').Count(l => l.Contains(" starts as ", StringComparison.Ordinal));
            var completedBefore = handsets.Count(p => p.Alice.EventsOf<SaInstalled>().Any());
            // The core's row is read while it is still Active: read after the kill, the survivors may already have marked it Dead.
            var coreAddress = (await cluster.ReadMembershipAsync()).Single(m => m.SiloName == "core" && m.Status == SiloStatus.Active).SiloAddress;
            var killedAt = Stopwatch.StartNew();
            cluster.Core.KillHard();
            await cluster.Core.WaitForExitAsync(SiloProcess.KilledExitWait);

            // The killed silo's row turns Dead in the membership table.
            TimeSpan? detection = null;
            while (killedAt.Elapsed < TimeSpan.FromSeconds(30))
            {
                var row = (await cluster.ReadMembershipAsync()).Single(m => m.SiloAddress.Equals(coreAddress));
                if (row.Status == SiloStatus.Dead)
                {
                    detection = killedAt.Elapsed;
                    break;
                }

                await Task.Delay(100, ct);
            }

            Assert.True(detection is not null, $"the killed core silo {coreAddress} is not marked Dead 30 s after kill -9\n{cluster.Logs()}");
            Report($"failure detection (kill -9 to the core silo's row marked Dead): {detection!.Value.TotalMilliseconds:F0} ms");
            Assert.True(detection <= TimeSpan.FromSeconds(10), $"the killed silo was marked Dead only after {detection}");

            // Every handset ends with an SA, and the SAs carry data both ways.
            await cluster.ExplainTimeoutAsync(Task.WhenAll(handsets.Select((p, i) => p.CompleteAsync($"pair {i} through a dying silo", TimeSpan.FromSeconds(75)))));
            var allDone = killedAt.Elapsed;

            // After the retries settle, no SA on one side only: each handset's inbound SPIs are its peer's outbound ones.
            var settled = TimeSpan.Zero;
            foreach (var p in handsets)
            {
                try
                {
                    var took = await p.WaitSasMatchAsync(TimeSpan.FromSeconds(20));
                    settled = took > settled ? took : settled;
                }
                catch (TimeoutException e)
                {
                    throw new TimeoutException($"{e.Message}\n{cluster.Logs(60)}", e);
                }
            }

            Report($"SA halves matched on both handsets of all {pairs} pairs (longest wait after the exchanges: {settled.TotalMilliseconds:F0} ms)");
            var retried = handsets.Count(p => p.Alice.EventsOf<ProxyRequested>().Any(e => e.Attempt > 1));
            var attempts = handsets.Sum(p => p.Alice.EventsOf<ProxyRequested>().Count());
            Report($"exchanges: {pairs} pairs; {completedBefore} already had their SA before the kill; proxy sessions started on the core silo before the kill: {sessionsOnCore}; " +
                $"exchanges that needed a retried proxy request (ProxyRequested with Attempt > 1): {retried}; proxy requests sent in all: {attempts}; " +
                $"all handsets had their SA {allDone.TotalMilliseconds:F0} ms after the kill");

            // No profile lost: every subscriber, from both surviving silos.
            foreach (var silo in new[] { cluster.EdgeA, cluster.EdgeB })
            {
                using var http = cluster.Http(silo);
                foreach (var nai in nais)
                {
                    var summary = await Subscribers.GetAsync(http, nai, ct);
                    Assert.True(summary is not null, $"{nai} is missing at {silo.Name} after the kill");
                    Assert.Equal(nai, (string?)summary!["nai"]);
                }
            }
        }
        finally
        {
            foreach (var p in handsets)
            {
                await p.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_whole_cluster_stopped_and_started_again_on_the_same_Azurite_keeps_the_profiles_and_proxies_a_new_exchange()
    {
        var ct = TestContext.Current.CancellationToken;
        const string poolA = "127.0.85.0/24", poolB = "127.0.86.0/24";
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("restart"), poolA, poolB);
        Report($"cluster start: {(await cluster.StartAsync()).TotalMilliseconds:F0} ms");

        var provisioned = new Dictionary<string, JsonObject>();
        using (var http = cluster.Http(cluster.EdgeA))
        {
            for (int i = 0; i < 2; i++)
            {
                provisioned[HandsetPair.AliceName("r", i)] = await Subscribers.ProvisionAsync(http, HandsetPair.AliceName("r", i), poolB, ct);
                provisioned[HandsetPair.BobName("r", i)] = await Subscribers.ProvisionAsync(http, HandsetPair.BobName("r", i), poolA, ct);
            }
        }

        await using (var before = HandsetPair.Create("r", 0, cluster, poolA, poolB))
        {
            await before.AttachAsync(AttachTimeout);
            before.SendFirst("before the restart");
            await cluster.ExplainTimeoutAsync(before.CompleteAsync("before the restart", TimeSpan.FromSeconds(30)));
        }

        var stopClock = Stopwatch.StartNew();
        var exitCodes = await cluster.StopAsync();
        Report($"cluster stop (SIGTERM to all three): {stopClock.ElapsedMilliseconds} ms; exit codes {string.Join(", ", exitCodes.Select(p => $"{p.Key} {p.Value}"))}");
        Assert.All(exitCodes, p => Assert.True(p.Value == 0, $"{p.Key} exited with {p.Value}\n{cluster.Logs()}"));

        Report($"cluster restart: {(await cluster.StartAsync()).TotalMilliseconds:F0} ms");
        var members = await cluster.ReadMembershipAsync();
        Assert.Equal(3, members.Count(m => m.Status == SiloStatus.Active));

        // The profiles are still there, unchanged, whichever silo is asked.
        foreach (var silo in cluster.Running)
        {
            using var http = cluster.Http(silo);
            foreach (var (nai, summary) in provisioned)
            {
                var now = await Subscribers.GetAsync(http, nai, ct);
                Assert.True(now is not null, $"{nai} is gone after the restart (asked {silo.Name})");
                Assert.Equal(Subscribers.Describe(summary), Subscribers.Describe(now!));
            }
        }

        await using var after = HandsetPair.Create("r", 1, cluster, poolA, poolB);
        await after.AttachAsync(AttachTimeout);
        after.SendFirst("after the restart");
        await cluster.ExplainTimeoutAsync(after.CompleteAsync("after the restart", TimeSpan.FromSeconds(30)));
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine("[cluster] " + line);
    }
}
