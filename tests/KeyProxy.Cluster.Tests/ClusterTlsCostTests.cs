using System.Globalization;
using System.Text.Json.Nodes;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// The cost of cluster TLS (issue 16 item 7, "on against off, in one run"): the same three-silo cluster on Azurite,
/// started with mutual TLS and then with <c>KeyProxy:ClusterTls:Enabled=false</c>, each driven by keyproxy-load's
/// proxied-sa through edge-a in a closed model (64 copies looping, 200 handsets: the cluster's
/// saturation rate, not a paced one). Proxy sessions spread over the silos (the default placement), so most sessions run on
/// another silo than the edge that carries their IKE: each of their packets crosses a silo connection. Prints SAs/s and
/// p99 of both and the ratio; asserts only that both ran without failures (the machine is shared: no rate bound).
/// </summary>
public sealed class ClusterTlsCostTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task Proxied_SAs_per_second_with_cluster_TLS_on_and_off()
    {
        var on = await RunAsync("on", new Dictionary<string, string>(), "127.0.98.0/24", "127.0.99.0/24", "127.0.174.0");
        var off = await RunAsync("off", new Dictionary<string, string> { ["KeyProxy__ClusterTls__Enabled"] = "false" },
            "127.0.100.0/24", "127.0.101.0/24", "127.0.175.0");
        output.WriteLine($"cluster TLS on:  {on.Rate:F1} SAs/s, p99 {on.P99} ms, {on.Ok} SAs; proxy session calls by silo: {on.Placement}");
        output.WriteLine($"cluster TLS off: {off.Rate:F1} SAs/s, p99 {off.P99} ms, {off.Ok} SAs; proxy session calls by silo: {off.Placement}");
        output.WriteLine($"on/off: {on.Rate / off.Rate:F3} of the rate");
    }

    private sealed record Result(double Rate, string P99, long Ok, string Placement);

    private async Task<Result> RunAsync(string name, Dictionary<string, string> settings, string poolA, string poolB, string peerNetwork)
    {
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("tls" + name), poolA, poolB, settings);
        await cluster.StartAsync();
        var dir = Path.Combine(Path.GetTempPath(), $"keyproxy-tls-cost-{name}-{Guid.NewGuid():N}");
        try
        {
            int exit = await RunLoadAsync(["proxied-sa", "--edge", cluster.EdgeA.AccessEndPoint!.ToString(), "--api", cluster.EdgeA.BaseUrl.ToString(),
                "--nai-prefix", "tls-" + name, "--handsets", "200", "--copies", "64", "--duration", "10s", "--peers", "8", "--peer-network", peerNetwork,
                "--report-dir", dir, "--no-live", "--threshold", "proxied-sa:fail<=0"]);
            Assert.True(exit == 0, $"proxied-sa with cluster TLS {name} exited {exit}\n{cluster.Logs(40)}");
            var row = File.ReadAllLines(Path.Combine(dir, "report.md")).First(l => l.StartsWith("| proxied-sa ", StringComparison.Ordinal))
                .Split('|', StringSplitOptions.TrimEntries);
            // | step | ok | failed | fail % | RPS | min | mean | p50 | p75 | p95 | p99 | max | bytes |
            var placement = new List<string>();
            foreach (var silo in cluster.Running)
            {
                using var http = cluster.Http(silo);
                var calls = JsonNode.Parse(await http.GetStringAsync("/api/grain-calls"))!["byMethod"]!.AsObject();
                placement.Add($"{silo.Name} {calls.Where(p => p.Key.StartsWith("IProxySessionGrain.", StringComparison.Ordinal)).Sum(p => (long)p.Value!)}");
            }

            return new Result(double.Parse(row[5], CultureInfo.InvariantCulture), row[11], long.Parse(row[2], CultureInfo.InvariantCulture), string.Join(", ", placement));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static Task<int> RunLoadAsync(string[] args)
    {
        var entry = typeof(KeyProxy.Load.CommandLineValues).Assembly.EntryPoint!;
        return Task.Run(() => (int)entry.Invoke(null, [args])!);
    }
}
