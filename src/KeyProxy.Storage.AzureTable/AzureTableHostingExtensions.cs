using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Messaging;
using Orleans.Providers;
using Orleans.Runtime.Hosting;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace KeyProxy.Storage.AzureTable;

/// <summary>Registers the Azure Table providers on silos and clients, in the shape of Orleans' own providers.</summary>
public static class AzureTableHostingExtensions
{
    private const string ClusteringProviderName = "Clustering";

    /// <summary>Silo: membership in Azure Table storage (the cluster id comes from <see cref="ClusterOptions"/>).</summary>
    public static ISiloBuilder UseAzureTableClustering(this ISiloBuilder builder, Action<AzureTableClusteringOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configureOptions);
        var services = builder.Services;
        services.Configure(configureOptions);
        services.AddTransient<IConfigurationValidator>(sp => new AzureTableOptionsValidator(
            sp.GetRequiredService<IOptions<AzureTableClusteringOptions>>().Value, ClusteringProviderName));
        services.AddSingleton<IMembershipTable>(sp => new AzureTableMembershipTable(
            sp.GetRequiredService<IOptions<AzureTableClusteringOptions>>().Value,
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId,
            sp.GetRequiredService<ILogger<AzureTableMembershipTable>>()));
        return builder;
    }

    /// <summary>Client: gateway list from the Azure Table membership; refreshed every <see cref="GatewayOptions.GatewayListRefreshPeriod"/>.</summary>
    public static IClientBuilder UseAzureTableClustering(this IClientBuilder builder, Action<AzureTableClusteringOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configureOptions);
        var services = builder.Services;
        services.Configure(configureOptions);
        services.AddTransient<IConfigurationValidator>(sp => new AzureTableOptionsValidator(
            sp.GetRequiredService<IOptions<AzureTableClusteringOptions>>().Value, ClusteringProviderName));
        services.AddSingleton<IGatewayListProvider>(sp => new AzureTableGatewayListProvider(
            sp.GetRequiredService<IOptions<AzureTableClusteringOptions>>().Value,
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ClusterId,
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.GatewayListRefreshPeriod,
            sp.GetRequiredService<ILogger<AzureTableGatewayListProvider>>()));
        return builder;
    }

    /// <summary>Silo: the default grain storage ("Default") in Azure Table storage.</summary>
    public static ISiloBuilder AddAzureTableGrainStorageAsDefault(this ISiloBuilder builder, Action<AzureTableGrainStorageOptions> configureOptions) =>
        builder.AddAzureTableGrainStorage(ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, configureOptions);

    /// <summary>Silo: a named grain storage in Azure Table storage; the table is created when the silo starts.</summary>
    public static ISiloBuilder AddAzureTableGrainStorage(this ISiloBuilder builder, string name, Action<AzureTableGrainStorageOptions> configureOptions)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(configureOptions);
        var services = builder.Services;
        services.AddOptions<AzureTableGrainStorageOptions>(name).Configure(configureOptions);
        services.AddTransient<IPostConfigureOptions<AzureTableGrainStorageOptions>,
            DefaultStorageProviderSerializerOptionsConfigurator<AzureTableGrainStorageOptions>>();
        services.AddTransient<IConfigurationValidator>(sp => new AzureTableOptionsValidator(
            sp.GetRequiredService<IOptionsMonitor<AzureTableGrainStorageOptions>>().Get(name), name));
        services.AddGrainStorage(name, static (sp, providerName) => new AzureTableGrainStorage(
            providerName,
            sp.GetRequiredService<IOptionsMonitor<AzureTableGrainStorageOptions>>().Get(providerName),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value.ServiceId,
            sp.GetRequiredService<IActivatorProvider>(),
            sp.GetRequiredService<ILogger<AzureTableGrainStorage>>()));
        return builder;
    }
}
