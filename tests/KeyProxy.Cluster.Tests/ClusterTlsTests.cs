using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Orleans.Runtime;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Cluster TLS between silo processes (issue 16 items 3 and 6): the three-silo cluster on Azurite runs with mutual TLS
/// (Development mode's local CA); a fourth silo process with a self-signed certificate, pointed at the same membership
/// table, never becomes Active, the others stay Active and serve, and they count and log the refusals.
/// </summary>
public sealed partial class ClusterTlsTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_with_a_self_signed_certificate_never_joins_and_the_cluster_stays_healthy()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("tls"), "127.0.95.0/24", "127.0.96.0/24");
        await cluster.StartAsync();
        var before = await InboundRefusalsAsync(cluster, ct);

        var settings = new Dictionary<string, string>(ClusterPki.SelfSignedSettings()) { ["KeyProxy__ServiceId"] = "keyproxy" };
        var spec = new SiloSpec("rogue", KeyProxy.Testing.FreeTcpPorts.Next(), KeyProxy.Testing.FreeTcpPorts.Next(), null);
        using var rogue = SiloProcess.Start(spec, cluster.ConnectionString, cluster.ClusterId, cluster.IkePort, cluster.NatTPort, settings, cluster.LogDirectory);
        var clock = Stopwatch.StartNew();
        var statuses = new List<SiloStatus>();
        TimeSpan? exitedAfter = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            foreach (var row in (await cluster.ReadMembershipAsync()).Where(r => r.SiloName == "rogue"))
            {
                if (statuses.Count == 0 || statuses[^1] != row.Status) statuses.Add(row.Status);
            }

            if (rogue.HasExited)
            {
                exitedAfter ??= clock.Elapsed;
                if (clock.Elapsed - exitedAfter > TimeSpan.FromSeconds(2)) break;
            }

            await Task.Delay(250, ct);
        }

        output.WriteLine($"rogue silo: membership statuses {string.Join(" -> ", statuses)}; " +
            (exitedAfter is { } exited ? $"exited after {exited.TotalSeconds:F1} s" : "still running after 60 s") + $"; log {rogue.LogFile}");
        Assert.DoesNotContain(SiloStatus.Active, statuses);
        Assert.DoesNotContain("KeyProxy silo up: ", rogue.Output);

        // The cluster is untouched: every silo still sees the three as Active, and a subscriber provisioned at edge-a
        // is read at edge-b (grain calls between silos, over TLS).
        await cluster.ExplainTimeoutAsync(cluster.WaitForMembershipAsync(TimeSpan.FromSeconds(20)));
        using (var a = cluster.Http(cluster.EdgeA))
        using (var b = cluster.Http(cluster.EdgeB))
        {
            await Subscribers.ProvisionAsync(a, "tls@cluster.test", "127.0.97.0/24", ct);
            Assert.NotNull(await Subscribers.GetAsync(b, "tls@cluster.test", ct));
        }

        // Refused certificates counted on the cluster's silos (/metrics) and logged without key material.
        var after = await InboundRefusalsAsync(cluster, ct);
        var untrusted = after.GetValueOrDefault("untrusted") - before.GetValueOrDefault("untrusted");
        output.WriteLine($"inbound refusals on the three silos: before {Describe(before)}; after {Describe(after)}");
        Assert.True(untrusted >= 1, $"no untrusted refusal counted: before {Describe(before)}, after {Describe(after)}\n{cluster.Logs(20)}");
        var logged = cluster.Running.SelectMany(s => s.Output.Split('\n')).Where(l => l.Contains("Cluster TLS refused the inbound connection with", StringComparison.Ordinal)).ToList();
        Assert.Contains(logged, l => l.Contains("untrusted, certificate subject 'CN=rogue silo'", StringComparison.Ordinal));
        Assert.DoesNotContain(cluster.Running, s => s.Output.Contains("PRIVATE KEY", StringComparison.Ordinal));
        output.WriteLine(logged[0].Trim());
    }

    /// <summary>keyproxy_cluster_tls_refusals_total{direction="inbound"} by reason, summed over the running silos.</summary>
    private static async Task<Dictionary<string, double>> InboundRefusalsAsync(LocalCluster cluster, CancellationToken ct)
    {
        var sums = new Dictionary<string, double>();
        foreach (var silo in cluster.Running)
        {
            using var http = cluster.Http(silo);
            foreach (Match m in RefusalLine().Matches(await http.GetStringAsync("/metrics", ct)))
            {
                if (m.Groups["direction"].Value != "inbound") continue;
                var reason = m.Groups["reason"].Value;
                sums[reason] = sums.GetValueOrDefault(reason) + double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture);
            }
        }

        return sums;
    }

    private static string Describe(Dictionary<string, double> counts) => counts.Count == 0 ? "none" : string.Join(", ", counts.Select(p => $"{p.Key}={p.Value}"));

    [GeneratedRegex("""^keyproxy_cluster_tls_refusals_total\{(?=[^}]*keyproxy_tls_direction="(?<direction>\w+)")(?=[^}]*keyproxy_tls_reason="(?<reason>\w+)")[^}]*\} (?<n>[0-9.e+]+)""", RegexOptions.Multiline)]
    private static partial Regex RefusalLine();
}
