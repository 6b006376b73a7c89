using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using KeyProxy.Load;
using KeyProxy.Load.Framework;
using KeyProxy.Load.Scenarios;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// A real Prometheus scraping the three-silo cluster on Azurite (issue 20): after a proxied-sa load run, PromQL over
/// the silos' metrics gives the load report's figures. Tolerances: the SA count and the failure count exactly; the edge
/// drops exactly against the edges' own counters (GET /api/edge); the p99 within 30% + 10 ms of the report's, because
/// the histogram interpolates inside buckets 10-25% wide and the silos time from the grain's start to the edge's taking
/// the key transfer, without the handset's two hops on the access link.
/// </summary>
public sealed class PrometheusScrapeTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task PromQL_over_the_scraped_cluster_gives_the_load_reports_figures()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("prom"), "127.0.178.0/24", "127.0.179.0/24");
        await cluster.StartAsync();
        await using var prometheus = await PrometheusServer.StartAsync(cluster.All.Select(s => s.BaseUrl));
        await Until(async () => await prometheus.ScalarAsync("sum(up{job=\"keyproxy\"})") == 3, "all three silos scraped", prometheus, cluster);

        // The shipped alert rules load and evaluate against the live series.
        var rules = await prometheus.RulesAsync();
        Assert.Equal(["KeyProxyHalfOpenNearCap", "KeyProxyKeyTransfersUndelivered", "KeyProxyNoSiloQuorum", "KeyProxyProxyFailures"],
            rules.Select(r => r.Name).Order());
        Assert.Equal(0, await prometheus.ScalarAsync("sum(keyproxy_proxy_sa_setup_duration_seconds_count) or vector(0)"));

        const int handsets = 40;
        var reportDir = Path.Combine(Path.GetTempPath(), "keyproxy-prom-" + Guid.NewGuid().ToString("N"));
        StepStats step;
        try
        {
            await using var scenario = new ProxiedSaScenario(new ProxiedSaOptions(cluster.EdgeA.AccessEndPoint!, new Uri(cluster.EdgeA.BaseUrl, "/"),
                handsets, Sockets: 2, NaiPrefix: "prom", Peers: 4, PeerIkePort: cluster.IkePort, PeerNatTPort: cluster.NatTPort)
                { PeerNetwork = IPAddress.Parse("127.0.180.0"), DetachAtEnd = false });
            var (run, _) = await LoadSession.RunAsync(scenario.Build(), new InjectRate(20, TimeSpan.FromSeconds(2)), reportDir, [],
                TextWriter.Null, live: false, ct);
            step = Assert.Single(Assert.Single(run.Scenarios).Steps);
        }
        finally
        {
            if (Directory.Exists(reportDir)) Directory.Delete(reportDir, recursive: true);
        }
        Assert.True(step.Ok >= handsets * 9 / 10, $"only {step.Ok} of {handsets} SAs; failures {string.Join("; ", step.Failures)}\n{cluster.Logs(40)}");
        // Drops to count: malformed datagrams at both edges' access sockets.
        using (var udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0)))
        {
            for (int i = 0; i < 5; i++) await udp.SendAsync(new byte[] { 0xff }, cluster.EdgeA.AccessEndPoint!, ct);
            for (int i = 0; i < 3; i++) await udp.SendAsync(new byte[] { 0xff }, cluster.EdgeB.AccessEndPoint!, ct);
        }

        // Proxied SAs: every SA the report counts ok was delivered by some silo's proxy session, once.
        // (A step the handset timed out may still have been delivered late: counted by the silos, failed in the report.)
        await Until(async () => await prometheus.ScalarAsync("sum(keyproxy_proxy_sa_setup_duration_seconds_count)") >= step.Ok,
            $"{step.Ok} SAs in Prometheus", prometheus, cluster);
        Assert.InRange(await prometheus.ScalarAsync("sum(keyproxy_proxy_sa_setup_duration_seconds_count)"), step.Ok, step.Ok + step.Failed);
        var sessionsBySilo = await prometheus.QueryAsync("sum by (instance) (keyproxy_proxy_sa_setup_duration_seconds_count)");
        output.WriteLine($"proxied SAs: report {step.Ok}, PromQL {string.Join(", ", sessionsBySilo.Select(s => $"{s.Labels["instance"]}={s.Value}"))}");

        // Failures: the report's failed steps against the sessions the silos counted failed.
        // (A handset's own timeout is no failure at the silos: the session may still finish.)
        var refused = step.Failures.Where(f => !f.Key.Contains("timeout", StringComparison.OrdinalIgnoreCase)).Sum(f => f.Value);
        Assert.Equal(refused, await prometheus.ScalarAsync("sum(keyproxy_proxy_sessions_failed_total) or vector(0)"));

        // Drops per reason: Prometheus against each edge's own counters.
        using var httpA = cluster.Http(cluster.EdgeA);
        using var httpB = cluster.Http(cluster.EdgeB);
        Dictionary<string, double> api = [];
        await Until(async () =>
        {
            api = [];
            foreach (var http in new[] { httpA, httpB })
            {
                var edge = await http.GetFromJsonAsync<JsonElement>("/api/edge", ct);
                foreach (var d in edge.GetProperty("drops").EnumerateObject())
                    api[d.Name.ToLowerInvariant()] = api.GetValueOrDefault(d.Name.ToLowerInvariant()) + d.Value.GetInt64();
            }
            var prom = (await prometheus.QueryAsync("sum by (reason) (keyproxy_edge_drops_total)")).ToDictionary(s => s.Labels["reason"], s => s.Value);
            return api.Where(a => a.Value > 0).All(a => prom.GetValueOrDefault(a.Key) == a.Value) && prom.All(p => api.GetValueOrDefault(p.Key) == p.Value);
        }, "edge drops in Prometheus equal to /api/edge", prometheus, cluster);
        Assert.True(api["malformed"] >= 8, $"malformed drops {api["malformed"]}");
        output.WriteLine($"drops: {string.Join(", ", api.Where(a => a.Value > 0).Select(a => $"{a.Key}={a.Value}"))}");

        // p99 from the histogram against the report's (HdrHistogram over the handsets' own timings).
        var p99 = 1000 * await prometheus.ScalarAsync(
            "histogram_quantile(0.99, sum by (le) (keyproxy_proxy_sa_setup_duration_seconds_bucket{keyproxy_proxy_role=\"initiator\"}))");
        output.WriteLine($"p99: report {step.P99Ms:F1} ms, PromQL {p99:F1} ms");
        Assert.InRange(p99, step.P99Ms * 0.7 - 10, step.P99Ms * 1.3 + 10);

        // No alert fires on a healthy cluster after a clean run.
        Assert.Empty(await prometheus.QueryAsync("ALERTS{alertstate=\"firing\"}"));
    }

    private static async Task Until(Func<Task<bool>> condition, string what, PrometheusServer prometheus, LocalCluster cluster)
    {
        for (var deadline = DateTime.UtcNow.AddSeconds(30); !await condition(); await Task.Delay(500))
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"not within 30 s: {what}\nprometheus:\n{prometheus.Output[^Math.Min(4000, prometheus.Output.Length)..]}\n{cluster.Logs(20)}");
    }
}
