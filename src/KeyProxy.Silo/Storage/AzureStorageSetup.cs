using Azure.Data.Tables;
using KeyProxy.Abstractions;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Silo.Storage;

/// <summary>
/// A multi-silo cluster on Azure Table storage, entirely from Orleans' official providers and one connection string:
/// membership (<c>Microsoft.Orleans.Clustering.AzureStorage</c>, table <see cref="MembershipTable"/>), grain state
/// (<c>Microsoft.Orleans.Persistence.AzureStorage</c>, table <see cref="GrainStateTable"/>) and reminders
/// (<c>Microsoft.Orleans.Reminders.AzureStorage</c>, table <see cref="ReminderTable"/>). The tables are Orleans'
/// default names, which an operator who ran Orleans before already knows; they differ from the project's old
/// tables (KeyProxyMembership, KeyProxyGrainState), so old rows are never misread as new ones
/// (<see cref="Migration.LegacyProfileMigration"/> moves the profiles).
/// </summary>
public static class AzureStorageSetup
{
    public const string MembershipTable = "OrleansSiloInstances";
    public const string GrainStateTable = "OrleansGrainState";
    public const string ReminderTable = "OrleansReminders";

    /// <summary>The subscriber storage provider's own name; the grains use <see cref="StorageNames.Subscribers"/>, its <see cref="RecordBoundGrainStorage"/>.</summary>
    public const string SubscriberTableProvider = StorageNames.Subscribers + "-table";

    public static ISiloBuilder UseKeyProxyAzureStorage(this ISiloBuilder silo, string connectionString, IStoredSecretProtector secrets)
    {
        // One client for all three: the SDK's default retries (exponential, 3 tries after the first) carry a silo
        // through a short storage outage, as the fault tests exercise.
        var tables = new TableServiceClient(connectionString);
        silo.UseAzureStorageClustering(o => (o.TableServiceClient, o.TableName) = (tables, MembershipTable));
        silo.UseAzureTableReminderService(o => (o.TableServiceClient, o.TableName) = (tables, ReminderTable));
        return silo.AddKeyProxyGrainStorage(tables, secrets);
    }

    /// <summary>
    /// The two grain storage providers alone (the silo above, and the migration command's own silo), subscriber secrets
    /// protected by <paramref name="secrets"/> (<see cref="EnvelopeSecrets"/>: encrypted at rest, issue 16).
    /// </summary>
    public static ISiloBuilder AddKeyProxyGrainStorage(this ISiloBuilder silo, TableServiceClient tables, IStoredSecretProtector secrets)
    {
        silo.Services.TryAddSingleton(secrets);
        silo.Services.TryAddSingleton<SubscriberRowSerializer>();
        silo.AddAzureTableGrainStorage(SubscriberTableProvider, o => o.Configure<SubscriberRowSerializer>((options, json) =>
        {
            (options.TableServiceClient, options.TableName) = (tables, GrainStateTable);
            options.UseStringFormat = true; // the JSON as a string column, readable in any table viewer
            options.GrainStorageSerializer = json;
        }));
        // The envelope binds each secret to its row; the provider tells its serializer nothing of the row, this does.
        silo.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Subscribers, (services, _) => new RecordBoundGrainStorage(
            services.GetRequiredKeyedService<IGrainStorage>(SubscriberTableProvider), services.GetRequiredService<IOptions<ClusterOptions>>()));

        // The directory lists every NAI in one row: Orleans' binary format keeps it compact (about 27,000 NAIs fit in
        // Azure's 1 MiB entity, against about 13,000 as JSON text), and an operator never needs to read it: the admin
        // API lists subscribers.
        silo.AddAzureTableGrainStorage(StorageNames.Directory, o => o.Configure<Serializer>((options, serializer) =>
        {
            (options.TableServiceClient, options.TableName) = (tables, GrainStateTable);
            options.GrainStorageSerializer = new OrleansGrainStorageSerializer(serializer);
        }));
        return silo;
    }
}
