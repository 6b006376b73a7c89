using System.Net;
using System.Net.Sockets;
using Azure;
using Azure.Data.Tables;
using KeyProxy.Abstractions;
using KeyProxy.Grains;
using KeyProxy.Silo.Storage;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Silo.Migration;

/// <summary>
/// <c>KeyProxy.Silo migrate-legacy-profiles</c>: a one-shot copy of the subscriber profiles a deployment stored with
/// the project's own providers (table <c>KeyProxyGrainState</c>, before issue 14) into the layout of Orleans' official
/// provider, so a carrier keeps its provisioned fleet instead of re-provisioning it. Settings as the silo's
/// (<c>KeyProxy:StorageConnectionString</c>, <c>KeyProxy:ServiceId</c>).
/// </summary>
/// <remarks>
/// Run it once with the new silos stopped (a running silo would hold the grains it rewrites). It writes through the
/// same grain storage the silo uses, from a silo of its own on loopback that joins no cluster, so the rows are exactly
/// what the silo writes. Per subscriber it keeps the profile and its version counter; attachments are not carried
/// over (every handset attaches again to the new cluster anyway). A subscriber already present in the new layout (re-
/// provisioned or deleted since) is left as it is; a deleted one is skipped. The old tables are left for the operator to drop.
/// Membership needs no migration: the new silos write theirs at start.
/// </remarks>
public static class LegacyProfileMigration
{
    public const string Command = "migrate-legacy-profiles";

    /// <summary>Exit codes: 0 all done, 1 some rows could not be read or written (listed), 2 bad settings.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var configuration = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        var options = configuration.GetSection(KeyProxySiloOptions.SectionName).Get<KeyProxySiloOptions>() ?? new KeyProxySiloOptions();
        options.Clustering = KeyProxySiloOptions.AzureTableClustering; // what Validate checks the connection string against
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            await output.WriteLineAsync(new SiloConfigurationException(errors).Message);
            return 2;
        }

        IStoredSecretProtector secrets;
        try
        {
            secrets = KeyProxySiloHost.SecretsProtector(options, output);
        }
        catch (SiloConfigurationException e)
        {
            await output.WriteLineAsync(e.Message);
            return 2;
        }

        var tables = new TableServiceClient(options.StorageConnectionString);
        var legacy = tables.GetTableClient(LegacyGrainStateRow.Table);
        if (!await TableExistsAsync(tables, LegacyGrainStateRow.Table))
        {
            await output.WriteLineAsync($"{Command}: this storage account has no table {LegacyGrainStateRow.Table}; nothing to migrate");
            return 1;
        }

        using var host = BuildStorageSilo(options.ServiceId, tables, secrets);
        await host.StartAsync();
        try
        {
            var result = await MigrateAsync(host.Services, legacy, options.ServiceId, output);
            await output.WriteLineAsync($"{Command}: {result.Migrated} profiles migrated, {result.AlreadyPresent} already in the new layout (kept), " +
                $"{result.Deleted} deleted subscribers skipped, {result.Failed.Count} failed; the directory lists {result.DirectoryCount} subscribers");
            foreach (var failure in result.Failed) await output.WriteLineAsync("  failed: " + failure);
            return result.Failed.Count == 0 ? 0 : 1;
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed record Result(int Migrated, int AlreadyPresent, int Deleted, List<string> Failed, int DirectoryCount);

    private static async Task<Result> MigrateAsync(IServiceProvider services, TableClient legacy, string serviceId, TextWriter output)
    {
        var grains = services.GetRequiredService<IGrainFactory>();
        var profiles = services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Subscribers);
        var legacyFormat = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>());
        var prefix = LegacyGrainStateRow.EscapeKey(serviceId + "/subscriber/");
        int migrated = 0, present = 0, deleted = 0;
        var failed = new List<string>();
        var nais = new List<string>();
        await foreach (var row in legacy.QueryAsync<TableEntity>(e => e.RowKey == "subscriber"))
        {
            if (!row.PartitionKey.StartsWith(prefix, StringComparison.Ordinal)) continue; // another service's rows
            try
            {
                var old = legacyFormat.Deserialize<SubscriberState>(LegacyGrainStateRow.ReadData(row));
                if (old?.Profile is not { } profile)
                {
                    deleted++;
                    continue;
                }

                var grainId = grains.GetGrain<ISubscriberGrain>(profile.Nai).GetGrainId();
                var now = new GrainState<SubscriberState>();
                await profiles.ReadStateAsync("subscriber", grainId, now);
                nais.Add(profile.Nai);
                if (now.RecordExists) // written by the new silos since (re-provisioned, or deleted): theirs is newer
                {
                    present++;
                    continue;
                }

                now.State = new SubscriberState { Profile = profile, LastVersion = old.LastVersion };
                await profiles.WriteStateAsync("subscriber", grainId, now);
                if (++migrated % 1000 == 0) await output.WriteLineAsync($"  {migrated} migrated");
            }
            catch (Exception e) when (e is InvalidDataException or RequestFailedException or InconsistentStateException
                                          or InvalidOperationException or OrleansException or ArgumentException)
            {
                failed.Add($"{row.PartitionKey}: {e.GetType().Name}: {e.Message}");
            }
        }

        return new Result(migrated, present, deleted, failed, await AddToDirectoryAsync(services, grains, nais));
    }

    /// <summary>The migrated NAIs added to the new directory row (merged with what it lists already).</summary>
    private static async Task<int> AddToDirectoryAsync(IServiceProvider services, IGrainFactory grains, List<string> nais)
    {
        var storage = services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Directory);
        var grainId = grains.GetGrain<ISubscriberDirectoryGrain>(ISubscriberDirectoryGrain.Key).GetGrainId();
        var directory = new GrainState<SubscriberDirectoryState>();
        await storage.ReadStateAsync("directory", grainId, directory);
        var all = new SortedSet<string>(directory.State?.Nais ?? [], StringComparer.Ordinal);
        all.UnionWith(nais);
        directory.State = new SubscriberDirectoryState { Nais = [.. all] };
        await storage.WriteStateAsync("directory", grainId, directory);
        return all.Count;
    }

    private static async Task<bool> TableExistsAsync(TableServiceClient tables, string name)
    {
        await foreach (var _ in tables.QueryAsync(t => t.Name == name)) return true;
        return false;
    }

    /// <summary>A silo on loopback that joins no cluster (localhost clustering, its own cluster id), for its grain storage only.</summary>
    private static IHost BuildStorageSilo(string serviceId, TableServiceClient tables, IStoredSecretProtector secrets)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.UseOrleans(silo => silo
            .UseLocalhostClustering(FreePort(), FreePort(), null, serviceId, "migration-" + Guid.NewGuid().ToString("N")[..8])
            .AddKeyProxyGrainStorage(tables, secrets));
        return builder.Build();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
