using System.Net;
using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Messaging;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable;

/// <summary>
/// Gateway list for Orleans clients: the gateway endpoints (address, proxy port, generation) of the Active silos
/// with a proxy port, read from the membership partition of the cluster.
/// </summary>
public sealed class AzureTableGatewayListProvider : IGatewayListProvider
{
    private static readonly string[] Columns =
        [MembershipColumns.Address, MembershipColumns.ProxyPort, MembershipColumns.Generation];

    private readonly AzureTableClusteringOptions _options;
    private readonly ILogger _logger;
    private readonly string _partitionKey;
    private TableClient? _table;

    /// <summary>Creates the provider for <paramref name="clusterId"/>; <paramref name="maxStaleness"/> is the client's refresh period.</summary>
    public AzureTableGatewayListProvider(
        AzureTableClusteringOptions options, string clusterId, TimeSpan maxStaleness, ILogger<AzureTableGatewayListProvider>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        ClusterId = clusterId;
        _partitionKey = AzureTableKeys.Escape(clusterId);
        MaxStaleness = maxStaleness;
    }

    /// <summary>The cluster whose gateways are listed.</summary>
    public string ClusterId { get; }

    /// <inheritdoc />
    public TimeSpan MaxStaleness { get; }

    /// <inheritdoc />
    [Obsolete("Orleans considers every provider updatable.")]
    public bool IsUpdatable => true;

    /// <summary>Builds the table client; the table itself is created by the silos.</summary>
    public Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken = default)
    {
        _table = _options.CreateTableClient();
        return Task.CompletedTask;
    }

    /// <summary>Gateway URIs ("gwy.tcp://ip:port/generation") of the Active silos with a non-zero proxy port.</summary>
    public async Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken = default)
    {
        var table = _table ?? throw new InvalidOperationException(
            $"{nameof(InitializeGatewayListProviderAsync)} must be called before {nameof(GetGatewaysAsync)}.");
        string filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {_partitionKey} and Status eq {nameof(SiloStatus.Active)} and ProxyPort gt {0}");
        var gateways = new List<Uri>();
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(filter, select: Columns, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (IPAddress.TryParse(row.GetString(MembershipColumns.Address), out IPAddress? address)
                    && row.GetInt32(MembershipColumns.ProxyPort) is int port and > 0 and <= 65535
                    && row.GetInt32(MembershipColumns.Generation) is int generation)
                {
                    gateways.Add(SiloAddress.New(address, port, generation).ToGatewayUri());
                }
                else
                {
                    _logger.LogWarning("Ignoring unreadable gateway row {RowKey} of cluster {ClusterId}", row.RowKey, ClusterId);
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            // No silo has created the table yet: no gateways.
        }

        return gateways;
    }

    /// <inheritdoc />
    public Task InitializeGatewayListProvider() => InitializeGatewayListProviderAsync();

    /// <inheritdoc />
    public Task<IList<Uri>> GetGateways() => GetGatewaysAsync();
}
