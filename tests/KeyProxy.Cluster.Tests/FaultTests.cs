using System.Diagnostics;
using KeyProxy.Handset;
using Orleans.Runtime;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Issue 8, faults: an edge silo killed and started again (its handsets re-attach and proxy again), and the storage
/// (Azurite, on disk) stopped and started again under a running cluster. After each, no SA is left installed on one
/// side of a pair only. Recovery times are printed.
/// </summary>
public sealed class FaultTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_edge_silo_killed_and_started_again_takes_its_handsets_back_after_they_re_attach_and_loses_no_profile()
    {
        var ct = TestContext.Current.CancellationToken;
        const string poolA = "127.0.87.0/24", poolB = "127.0.88.0/24";
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("edge"), poolA, poolB, FaultSettings.ShortLeases);
        Report($"cluster start: {(await cluster.StartAsync()).TotalMilliseconds:F0} ms; silo logs in {cluster.LogDirectory}");
        var nais = new List<string>();
        using (var http = cluster.Http(cluster.Core))
        {
            for (int i = 0; i < 2; i++)
            {
                await Subscribers.ProvisionAsync(http, HandsetPair.AliceName("e", i), poolB, ct);
                await Subscribers.ProvisionAsync(http, HandsetPair.BobName("e", i), poolA, ct);
                nais.AddRange([HandsetPair.AliceName("e", i), HandsetPair.BobName("e", i)]);
            }
        }

        await using var before = HandsetPair.Create("e", 0, cluster, poolA, poolB);
        await before.AttachAsync(AttachTimeout);
        before.SendFirst("before the edge restart");
        await cluster.ExplainTimeoutAsync(before.CompleteAsync("before the edge restart", TimeSpan.FromSeconds(30)));
        var accessBefore = cluster.EdgeA.AccessEndPoint;

        // kill -9 of edge-a and the same settings again: the same access port, pool and silo ports.
        var clock = Stopwatch.StartNew();
        var ready = await cluster.RestartAsync(cluster.EdgeA, hard: true);
        var readyAt = clock.Elapsed;
        Assert.Equal(accessBefore, cluster.EdgeA.AccessEndPoint);

        // Alice's access link no longer answers: the new edge has no tunnel for her, her ESP towards bob goes nowhere.
        Assert.Equal(HandsetPacketStatus.Ok, before.Alice.Host.Send(HandsetPair.Udp(before.Alice.Host.Address!, 40000, before.Bob.Host.Address!, 7, "lost")).Status);
        await Assert.ThrowsAsync<TimeoutException>(() => before.Bob.NextDeliveredAsync(TimeSpan.FromSeconds(1)));

        // The handset has no re-attach logic of its own (no liveness probe towards the edge): attach again, as a user would.
        var attachedBefore = before.Alice.EventsOf<Attached>().Count();
        var reattach = Stopwatch.StartNew();
        before.Alice.Host.Attach();
        await before.Alice.WaitAsync<Attached>(_ => before.Alice.EventsOf<Attached>().Count() > attachedBefore, AttachTimeout, "re-attached at the new edge-a");
        var reattached = reattach.Elapsed;
        Assert.Contains(before.Alice.EventsOf<SaRemoved>(), e => e.Reason == SaRemovalReason.Detached);

        await cluster.WaitForMembershipAsync(TimeSpan.FromSeconds(30));
        var converged = clock.Elapsed;

        // A new proxied exchange of the re-attached alice with bob, who stayed attached at edge-b throughout.
        var (aliceSas, bobSas) = (before.Alice.EventsOf<SaInstalled>().Count(), before.Bob.EventsOf<SaInstalled>().Count());
        var exchange = Stopwatch.StartNew();
        before.SendFirst("after the edge restart");
        await cluster.ExplainTimeoutAsync(Task.WhenAll(
            before.Alice.WaitAsync<SaInstalled>(_ => before.Alice.EventsOf<SaInstalled>().Count() > aliceSas, TimeSpan.FromSeconds(45), "new SA at alice"),
            before.Bob.WaitAsync<SaInstalled>(_ => before.Bob.EventsOf<SaInstalled>().Count() > bobSas, TimeSpan.FromSeconds(45), "new SA at bob")));
        Assert.Equal("after the edge restart", HandsetPair.Text(await before.Bob.NextDeliveredAsync(TimeSpan.FromSeconds(10))));
        var exchanged = exchange.Elapsed;
        // No SA on one side only: every SA either handset holds has its other half at the other. Bob may still hold the
        // SA of the exchange before the kill: when the proxy session that gave it to him died with edge-a, his
        // subscriber's audit deletes it (lease 2 s); when it lives on and alice's died, its liveness check ends it
        // (3 s + 3 × 0.5 s); when both live, alice's closes once she attached again (lease) and deletes it at the peer.
        var (orphansAtFirst, bobBefore) = (Orphans(before), before.Bob.LiveSas().Count);
        var settled = await SettleOrExplain(cluster, before);
        var removedAtBob = before.Bob.EventsOf<SaRemoved>().Where(e => e.Reason == SaRemovalReason.DeletedByNetwork).Select(e => e.InboundSpi).ToHashSet();

        // A handset attaching for the first time at the restarted edge.
        await using var after = HandsetPair.Create("e", 1, cluster, poolA, poolB);
        await after.AttachAsync(AttachTimeout);
        after.SendFirst("new handset after the edge restart");
        await cluster.ExplainTimeoutAsync(after.CompleteAsync("new handset after the edge restart", TimeSpan.FromSeconds(30)));
        await SettleOrExplain(cluster, after);

        Report($"edge-a kill -9 and restart: ready line {ready.TotalMilliseconds:F0} ms after the new start ({readyAt.TotalMilliseconds:F0} ms after the kill); " +
            $"every silo sees all three Active {converged.TotalMilliseconds:F0} ms after the kill; re-attach {reattached.TotalMilliseconds:F0} ms; " +
            $"new proxied exchange of the re-attached handset {exchanged.TotalMilliseconds:F0} ms; " +
            $"SAs on one side only right after it: {orphansAtFirst} (bob held {bobBefore}); every SA matched at both handsets {settled.TotalMilliseconds:F0} ms after it; " +
            $"SAs deleted at bob by the network meanwhile: {removedAtBob.Count}; proxy sessions by silo: {SessionSilos(cluster)}");

        foreach (var silo in cluster.Running)
        {
            using var http = cluster.Http(silo);
            foreach (var nai in nais)
            {
                Assert.True(await Subscribers.GetAsync(http, nai, ct) is not null, $"{nai} is missing at {silo.Name} after the edge restart");
            }
        }
    }

    [Fact]
    public async Task Storage_stopped_under_a_running_cluster_keeps_attached_handsets_served_and_after_it_returns_provisioning_attach_and_membership_recover()
    {
        var ct = TestContext.Current.CancellationToken;
        const string poolA = "127.0.89.0/24", poolB = "127.0.90.0/24";
        await using var storage = new DiskAzurite();
        await storage.StartAsync();
        await using var cluster = new LocalCluster(storage.ConnectionString, LocalCluster.NewId("storage"), poolA, poolB);
        Report($"cluster start: {(await cluster.StartAsync()).TotalMilliseconds:F0} ms; silo logs in {cluster.LogDirectory}");
        using (var http = cluster.Http(cluster.Core))
        {
            for (int i = 0; i < 3; i++)
            {
                await Subscribers.ProvisionAsync(http, HandsetPair.AliceName("s", i), poolB, ct);
                await Subscribers.ProvisionAsync(http, HandsetPair.BobName("s", i), poolA, ct);
            }
        }

        var retry = new RequestRetryPolicy(TimeSpan.FromSeconds(2), 1.5, 8);
        await using var established = HandsetPair.Create("s", 0, cluster, poolA, poolB);
        await established.AttachAsync(AttachTimeout);
        established.SendFirst("before the outage");
        await cluster.ExplainTimeoutAsync(established.CompleteAsync("before the outage", TimeSpan.FromSeconds(30)));
        await using var waiting = HandsetPair.Create("s", 1, cluster, poolA, poolB, retry);
        await waiting.AttachAsync(AttachTimeout);

        var outage = Stopwatch.StartNew();
        await storage.StopAsync();

        // The data plane needs no storage: the established pair's SAs carry traffic both ways.
        for (int i = 0; i < 3; i++)
        {
            var text = $"during the outage {i}";
            Assert.Equal(HandsetPacketStatus.Ok, established.Alice.Host.Send(HandsetPair.Udp(established.Alice.Host.Address!, 40000, established.Bob.Host.Address!, 7, text)).Status);
            Assert.Equal(text, HandsetPair.Text(await established.Bob.NextDeliveredAsync(TimeSpan.FromSeconds(5))));
            Assert.Equal(HandsetPacketStatus.Ok, established.Bob.Host.Send(HandsetPair.Udp(established.Bob.Host.Address!, 7, established.Alice.Host.Address!, 40000, "re: " + text)).Status);
            Assert.Equal("re: " + text, HandsetPair.Text(await established.Alice.NextDeliveredAsync(TimeSpan.FromSeconds(5))));
        }

        // An exchange of two handsets attached before the outage; whether it completes during it is reported, not required.
        waiting.SendFirst("across the outage");
        var duringOutage = Task.WhenAll(
            waiting.Alice.WaitAsync<SaInstalled>(_ => true, TimeSpan.FromSeconds(8), "SA at alice during the outage"),
            waiting.Bob.WaitAsync<SaInstalled>(_ => true, TimeSpan.FromSeconds(8), "SA at bob during the outage"));
        bool exchangedDuringOutage = await Task.WhenAny(duringOutage, Task.Delay(TimeSpan.FromSeconds(8), ct)) == duringOutage && duringOutage.IsCompletedSuccessfully;

        // Provisioning needs the table: it fails (or does not answer) during the outage.
        string provisionDuringOutage;
        using (var http = KeyProxy.Testing.AdminHttp.Client(cluster.EdgeB.BaseUrl, TimeSpan.FromSeconds(3)))
        {
            try
            {
                using var response = await http.GetAsync("/api/subscribers/" + Uri.EscapeDataString(HandsetPair.AliceName("s", 2)), ct);
                provisionDuringOutage = $"GET answered {(int)response.StatusCode}";
            }
            catch (TaskCanceledException)
            {
                provisionDuringOutage = "GET did not answer within 3 s";
            }
        }

        var outageLength = outage.Elapsed;
        await storage.StartAsync();
        var restored = Stopwatch.StartNew();
        Assert.True(cluster.Running.Count() == 3, $"a silo exited during the storage outage\n{cluster.Logs()}");

        // Provisioning works again (retried until the table answers through the silo).
        TimeSpan? provisioned = null;
        while (restored.Elapsed < TimeSpan.FromSeconds(45) && provisioned is null)
        {
            using var http = KeyProxy.Testing.AdminHttp.Client(cluster.Core.BaseUrl, TimeSpan.FromSeconds(5));
            try
            {
                using var response = await http.PutAsync("/api/subscribers/" + Uri.EscapeDataString("carol-s@cluster.keyproxy.test"),
                    System.Net.Http.Json.JsonContent.Create(Subscribers.Profile("carol-s@cluster.keyproxy.test", poolA)), ct);
                if (response.IsSuccessStatusCode)
                {
                    provisioned = restored.Elapsed;
                    break;
                }
            }
            catch (TaskCanceledException)
            {
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(250, ct);
        }

        Assert.True(provisioned is not null, $"provisioning did not work again within 45 s of storage returning\n{cluster.Logs()}");

        // Membership: every silo sees all three Active, and the table's rows say so too.
        await cluster.WaitForMembershipAsync(TimeSpan.FromSeconds(45));
        var membership = restored.Elapsed;
        var rows = await cluster.ReadMembershipAsync();
        Assert.Equal(["core", "edge-a", "edge-b"], rows.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloName).Order().ToArray());

        // The exchange started during the outage completes (handset retries), and a new pair attaches and exchanges.
        await cluster.ExplainTimeoutAsync(waiting.CompleteAsync("across the outage", TimeSpan.FromSeconds(60)));
        var waitingDone = restored.Elapsed;
        await using var fresh = HandsetPair.Create("s", 2, cluster, poolA, poolB);
        var attach = Stopwatch.StartNew();
        await fresh.AttachAsync(AttachTimeout);
        var attached = attach.Elapsed;
        fresh.SendFirst("after the outage");
        await cluster.ExplainTimeoutAsync(fresh.CompleteAsync("after the outage", TimeSpan.FromSeconds(30)));
        foreach (var pair in new[] { established, waiting, fresh })
        {
            await SettleOrExplain(cluster, pair);
        }

        // Issue 15: when the handset's retry finds the IKE SA still in IKE_AUTH (the peer's answer waits on storage),
        // the abandoned IKE SA is deleted at the peer as well: one proxy session per handset of that pair remains,
        // not one more at bob's side until its liveness check (2 min, after this test).
        await AssertOneSessionEachAsync(cluster, [HandsetPair.AliceName("s", 1), HandsetPair.BobName("s", 1)], ct);

        Report($"storage outage of {outageLength.TotalMilliseconds:F0} ms (SIGTERM of Azurite, started again on the same ports and directory): " +
            $"established SAs carried 6 datagrams during it; an exchange started during it completed during it: {exchangedDuringOutage}; {provisionDuringOutage} during it; " +
            $"after storage returned: provisioning works after {provisioned!.Value.TotalMilliseconds:F0} ms, all silos Active on every dashboard after {membership.TotalMilliseconds:F0} ms, " +
            $"the exchange started during the outage done after {waitingDone.TotalMilliseconds:F0} ms, a new attach took {attached.TotalMilliseconds:F0} ms");

        using (var http = cluster.Http(cluster.EdgeA))
        {
            for (int i = 0; i < 3; i++)
            {
                Assert.True(await Subscribers.GetAsync(http, HandsetPair.AliceName("s", i), ct) is not null, "a profile was lost with the storage restart");
                Assert.True(await Subscribers.GetAsync(http, HandsetPair.BobName("s", i), ct) is not null, "a profile was lost with the storage restart");
            }
        }
    }

    /// <summary>SAs either handset holds without the other half at the other.</summary>
    private static int Orphans(HandsetPair pair)
    {
        var alice = pair.Alice.LiveSas();
        var bob = pair.Bob.LiveSas();
        var aliceIn = alice.Select(e => e.InboundSpi).ToHashSet();
        var bobIn = bob.Select(e => e.InboundSpi).ToHashSet();
        return alice.Count(e => !bobIn.Contains(e.OutboundSpi)) + bob.Count(e => !aliceIn.Contains(e.OutboundSpi));
    }

    /// <summary>Where the proxy sessions started, from the silos' "starts as" log lines (which silo died with which).</summary>
    /// <summary>GET /api/sessions until each NAI has exactly one live proxy session (15 s: the peer's session ends when its turn does).</summary>
    private static async Task AssertOneSessionEachAsync(LocalCluster cluster, string[] nais, CancellationToken ct)
    {
        using var http = cluster.Http(cluster.Core);
        var waited = Stopwatch.StartNew();
        while (true)
        {
            var sessions = (await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.Nodes.JsonArray>(http, "/api/sessions?take=1000", ct))!;
            if (nais.All(n => sessions.Count(s => (string?)s!["nai"] == n) == 1)) return;
            if (waited.Elapsed > TimeSpan.FromSeconds(15))
            {
                Assert.Fail("proxy sessions of " + string.Join(", ", nais) + ": " +
                    string.Join("; ", sessions.Where(s => nais.Contains((string?)s!["nai"])).Select(s => $"{s!["nai"]} {s["role"]} {s["ikeSpis"]} {s["ikeState"]}")) +
                    $"\n{cluster.Logs()}");
            }

            await Task.Delay(250, ct);
        }
    }

    private static string SessionSilos(LocalCluster cluster) =>
        string.Join(", ", cluster.All.Select(s => $"{s.Name}#{s.Pid}: {CountLines(s.Output, "starts as")}"));

    private static int CountLines(string text, string what)
    {
        int n = 0;
        for (int i = text.IndexOf(what, StringComparison.Ordinal); i >= 0; i = text.IndexOf(what, i + what.Length, StringComparison.Ordinal))
        {
            n++;
        }

        return n;
    }

    // The bound is the audit (2 s here) after membership declared the killed silo dead, or liveness: under CI's
    // load (three clusters and the interop tests on two cores) declaring it dead alone took up to 25 s.
    private static Task<TimeSpan> SettleOrExplain(LocalCluster cluster, HandsetPair pair) =>
        cluster.ExplainTimeoutAsync(pair.WaitSasMatchAsync(TimeSpan.FromSeconds(60)));

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine("[faults] " + line);
    }
}
