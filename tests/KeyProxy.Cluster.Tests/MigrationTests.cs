using System.Diagnostics;
using System.Text;
using Azure.Data.Tables;
using KeyProxy.Abstractions;
using KeyProxy.Grains;
using KeyProxy.Silo.Storage;

namespace KeyProxy.Cluster.Tests;

/// <summary>
/// Issue 14, migration: profiles stored by the project's own providers (rows in the old format, written here as that
/// code wrote them) moved by <c>KeyProxy.Silo migrate-legacy-profiles</c> into the official provider's layout; a
/// cluster on the official providers then serves them unchanged (version kept) and proxies an exchange with their
/// secrets and pre-shared keys. The stored row is JSON an operator can read, its secrets encrypted (issue 16; here under
/// Development mode's local key, which the command and the silos on this machine share).
/// </summary>
public sealed class MigrationTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task Profiles_of_the_old_tables_are_migrated_once_and_serve_handsets_on_the_official_providers()
    {
        var ct = TestContext.Current.CancellationToken;
        const string poolA = "127.0.95.0/24", poolB = "127.0.96.0/24";
        var serviceId = "migrated-" + Guid.NewGuid().ToString("N")[..8];
        string alice = HandsetPair.AliceName("m", 0), bob = HandsetPair.BobName("m", 0), gone = "gone-m@cluster.keyproxy.test";
        await LegacyRows.WriteSubscriberAsync(azurite.ConnectionString, serviceId, alice, new SubscriberState { Profile = Profile(alice, poolB, 3), LastVersion = 3 });
        await LegacyRows.WriteSubscriberAsync(azurite.ConnectionString, serviceId, bob, new SubscriberState { Profile = Profile(bob, poolA, 1), LastVersion = 1 });
        await LegacyRows.WriteSubscriberAsync(azurite.ConnectionString, serviceId, gone, new SubscriberState { LastVersion = 5 }); // deleted
        await LegacyRows.WriteSubscriberAsync(azurite.ConnectionString, "another-service", "other@cluster.keyproxy.test",
            new SubscriberState { Profile = Profile("other@cluster.keyproxy.test", poolA, 1), LastVersion = 1 });

        var (exit, text) = await MigrateAsync(serviceId);
        output.WriteLine(text);
        Assert.True(exit == 0, $"migration exited {exit}: {text}");
        Assert.Contains("2 profiles migrated, 0 already in the new layout (kept), 1 deleted subscribers skipped, 0 failed; the directory lists 2 subscribers", text);

        // Idempotent: a second run finds both in the new layout and changes nothing.
        (exit, text) = await MigrateAsync(serviceId);
        Assert.True(exit == 0, $"second migration exited {exit}: {text}");
        Assert.Contains("0 profiles migrated, 2 already in the new layout (kept)", text);

        // The row an operator finds: JSON text, the NAI and identity readable, the secret encrypted.
        var row = await FindRowAsync(serviceId, alice);
        var json = row.GetString("StringData");
        Assert.Contains($"\"Nai\":\"{alice}\"", json);
        Assert.Contains("\"Version\":3", json);
        Assert.Contains("\"Secret\":\"aes256gcm:", json);
        Assert.DoesNotContain("unprotected:", json);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Subscribers.Secret(alice))), json);
        Assert.DoesNotContain(Subscribers.Secret(alice), json);

        await using var cluster = new LocalCluster(azurite.ConnectionString, LocalCluster.NewId("migrated"), poolA, poolB,
            new Dictionary<string, string> { ["KeyProxy__ServiceId"] = serviceId });
        await cluster.StartAsync();
        using (var http = cluster.Http(cluster.Core))
        {
            var summary = await Subscribers.GetAsync(http, alice, ct);
            Assert.NotNull(summary);
            Assert.Equal(3, (int)summary!["version"]!);
            Assert.Null(await Subscribers.GetAsync(http, gone, ct));
            Assert.Null(await Subscribers.GetAsync(http, "other@cluster.keyproxy.test", ct));
            var list = System.Text.Json.Nodes.JsonNode.Parse(await http.GetStringAsync("/api/subscribers", ct))!;
            Assert.Equal(2, (int)list["total"]!);
        }

        await using var pair = HandsetPair.Create("m", 0, cluster, poolA, poolB);
        await pair.AttachAsync(TimeSpan.FromSeconds(20));
        pair.SendFirst("with migrated profiles");
        await cluster.ExplainTimeoutAsync(pair.CompleteAsync("with migrated profiles", TimeSpan.FromSeconds(30)));
    }

    /// <summary>A profile as <see cref="Subscribers.Profile"/> provisions it, as the old silo would have stored it.</summary>
    private static SubscriberProfile Profile(string nai, string peerPool, int version) => new()
    {
        Nai = nai,
        Secret = Encoding.UTF8.GetBytes(Subscribers.Secret(nai)),
        ProxyService = true,
        Conditions = [ProxyCondition.AnyTraffic(peerPool)],
        IkeIdentity = "fqdn:" + nai.Replace('@', '.'),
        PreSharedKeys = [new PeerPsk(peerPool, null, Encoding.UTF8.GetBytes(Subscribers.Psk))],
        IkeProposals = ["aes128gcm16-prfsha256-x25519"],
        EspProposals = ["aes128gcm16"],
        Version = version,
    };

    private async Task<TableEntity> FindRowAsync(string serviceId, string nai)
    {
        var table = new TableClient(azurite.ConnectionString, AzureStorageSetup.GrainStateTable);
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.RowKey == "subscriber"))
        {
            if (row.PartitionKey.StartsWith(serviceId, StringComparison.Ordinal) && row.PartitionKey.Contains(nai, StringComparison.Ordinal)) return row;
        }

        throw new InvalidOperationException($"no row for {nai} of service {serviceId} in {AzureStorageSetup.GrainStateTable}");
    }

    /// <summary>The command as an operator runs it: the built silo with the subcommand, settings in the environment.</summary>
    private async Task<(int Exit, string Output)> MigrateAsync(string serviceId)
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(SiloProcess.SiloAssembly());
        info.ArgumentList.Add("migrate-legacy-profiles");
        info.Environment["KeyProxy__StorageConnectionString"] = azurite.ConnectionString;
        info.Environment["KeyProxy__ServiceId"] = serviceId;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
