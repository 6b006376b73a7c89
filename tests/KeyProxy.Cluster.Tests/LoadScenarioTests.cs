using System.Diagnostics;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// keyproxy-load, as a user runs it, against the three-silo cluster on Azurite (issue 7, "runs against the Azurite
/// cluster"): every scenario's command with a small fleet, each writing its three reports and exiting 0 with a
/// threshold of no failures. The peers learn the cluster's IKE ports from the edge's admin API.
/// </summary>
public sealed class LoadScenarioTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task Every_load_scenario_runs_against_the_cluster_and_writes_its_reports()
    {
        const string poolA = "127.0.93.0/24", poolB = "127.0.94.0/24";
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("load"), poolA, poolB);
        await cluster.StartAsync();
        string edgeA = cluster.EdgeA.AccessEndPoint!.ToString(), edgeB = cluster.EdgeB.AccessEndPoint!.ToString();
        string api = cluster.EdgeA.BaseUrl.ToString();
        var root = Path.Combine(Path.GetTempPath(), "keyproxy-cluster-load-" + Guid.NewGuid().ToString("N"));
        try
        {
            (string Name, string[] Args)[] runs =
            [
                ("proxied-sa", ["--handsets", "20", "--duration", "2s", "--peers", "4", "--peer-network", "127.0.170.0"]),
                ("peer-initiated", ["--handsets", "10", "--duration", "1s", "--peers", "2", "--peer-network", "127.0.171.0"]),
                ("esp-echo", ["--handsets", "10", "--duration", "2s", "--peers", "2", "--peer-network", "127.0.172.0"]),
                ("roam", ["--edge2", edgeB, "--handsets", "10", "--duration", "1s", "--peers", "2", "--peer-network", "127.0.173.0"]),
            ];
            foreach (var (name, args) in runs)
            {
                var dir = Path.Combine(root, name);
                var clock = Stopwatch.StartNew();
                int exit = await RunLoadAsync([name, "--edge", edgeA, "--api", api, "--nai-prefix", "cl-" + name, "--report-dir", dir, "--no-live",
                    "--threshold", $"{name}:fail<=0", .. args]);
                Assert.True(exit == 0, $"{name} exited {exit}\n{cluster.Logs(40)}");
                foreach (var file in new[] { "report.md", "report.csv", "report.html" })
                    Assert.Contains(name, File.ReadAllText(Path.Combine(dir, file)));
                output.WriteLine($"{name}: done in {clock.ElapsedMilliseconds} ms; {File.ReadAllLines(Path.Combine(dir, "report.md")).First(l => l.StartsWith($"| {name} ", StringComparison.Ordinal))}");
            }
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>keyproxy-load's entry point (the compiler's synchronous Main), off the test's thread.</summary>
    private static Task<int> RunLoadAsync(string[] args)
    {
        var entry = typeof(KeyProxy.Load.CommandLineValues).Assembly.EntryPoint!;
        return Task.Run(() => (int)entry.Invoke(null, [args])!);
    }
}
