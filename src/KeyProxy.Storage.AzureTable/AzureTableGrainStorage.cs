using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace KeyProxy.Storage.AzureTable;

/// <summary>
/// Orleans grain storage on Azure Table storage. One row per grain state: PartitionKey = escaped
/// "serviceId/grainId" (a partition per grain, so load spreads over Azure's partition servers),
/// RowKey = escaped state name. Writes are guarded by the row's ETag: a stale ETag, or a first write that finds
/// a row, throws <see cref="InconsistentStateException"/> carrying the stored and the expected ETag.
/// </summary>
public sealed class AzureTableGrainStorage : IGrainStorage, ILifecycleParticipant<ISiloLifecycle>
{
    private readonly string _name;
    private readonly AzureTableGrainStorageOptions _options;
    private readonly string _serviceId;
    private readonly IActivatorProvider _activators;
    private readonly ILogger _logger;
    private TableClient? _table;

    /// <summary>Creates the provider; <paramref name="serviceId"/> separates services that share a table.</summary>
    public AzureTableGrainStorage(
        string name,
        AzureTableGrainStorageOptions options,
        string serviceId,
        IActivatorProvider activators,
        ILogger<AzureTableGrainStorage>? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(serviceId);
        ArgumentNullException.ThrowIfNull(activators);
        _name = name;
        _options = options;
        _serviceId = serviceId;
        _activators = activators;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    private TableClient Table => _table ??= _options.CreateTableClient();

    private IGrainStorageSerializer Serializer => _options.GrainStorageSerializer
        ?? throw new InvalidOperationException($"Grain storage '{_name}' has no {nameof(IGrainStorageSerializer)}.");

    /// <summary>Validates the options and creates the table when missing (run at silo start).</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        _options.Validate(_name);
        await Table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        _logger.LogInformation("Grain storage {Name} uses table {Table}", _name, _options.TableName);
    }

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe($"{nameof(AzureTableGrainStorage)}-{_name}", _options.InitStage, InitializeAsync);

    /// <inheritdoc />
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ReadStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var (pk, rk) = Keys(stateName, grainId);
        var response = await Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!response.HasValue)
        {
            SetEmpty(grainState, etag: null);
            return;
        }

        TableEntity row = response.Value!;
        if (GrainStateColumns.IsCleared(row))
        {
            SetEmpty(grainState, row.ETag.ToString());
            return;
        }

        byte[] data = GrainStateColumns.ReadData(row);
        grainState.State = Serializer.Deserialize<T>(new BinaryData(data)) ?? Create<T>();
        grainState.ETag = row.ETag.ToString();
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        WriteStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var (pk, rk) = Keys(stateName, grainId);
        ReadOnlyMemory<byte> data = Serializer.Serialize(grainState.State).ToMemory();
        TableEntity entity = GrainStateColumns.ToEntity(pk, rk, data, stateName, grainId);
        string newETag = await Put(entity, grainState.ETag, stateName, grainId, cancellationToken).ConfigureAwait(false);
        grainState.ETag = newETag;
        grainState.RecordExists = true;
    }

    /// <inheritdoc />
    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        ClearStateAsync(stateName, grainId, grainState, CancellationToken.None);

    /// <inheritdoc />
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
    {
        var (pk, rk) = Keys(stateName, grainId);
        if (!_options.DeleteStateOnClear)
        {
            string etag = await Put(GrainStateColumns.ClearedEntity(pk, rk), grainState.ETag, stateName, grainId, cancellationToken)
                .ConfigureAwait(false);
            SetEmpty(grainState, etag);
            return;
        }

        if (grainState.ETag is null)
        {
            // The grain believes there is no row; make sure nobody wrote one meanwhile.
            string? stored = await StoredETag(pk, rk, cancellationToken).ConfigureAwait(false);
            if (stored is not null)
            {
                throw new InconsistentStateException(
                    $"Clear of state '{stateName}' of grain {grainId} expected no row, but one exists.", stored, (string?)null);
            }
        }
        else
        {
            try
            {
                await Table.DeleteEntityAsync(pk, rk, new ETag(grainState.ETag), cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // Already gone: the state is cleared either way.
            }
            catch (RequestFailedException e) when (e.Status == 412)
            {
                string? stored = await StoredETag(pk, rk, cancellationToken).ConfigureAwait(false);
                throw new InconsistentStateException(
                    $"Clear of state '{stateName}' of grain {grainId} lost against a newer write.", stored, grainState.ETag, e);
            }
        }

        SetEmpty(grainState, etag: null);
    }

    /// <summary>Adds (no ETag) or replaces (ETag must match) the row; returns the new ETag.</summary>
    private async Task<string> Put(TableEntity entity, string? expectedETag, string stateName, GrainId grainId, CancellationToken cancellationToken)
    {
        Response response;
        try
        {
            response = expectedETag is null
                ? await Table.AddEntityAsync(entity, cancellationToken).ConfigureAwait(false)
                : await Table.UpdateEntityAsync(entity, new ETag(expectedETag), TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
        {
            string? stored = await StoredETag(entity.PartitionKey, entity.RowKey, cancellationToken).ConfigureAwait(false);
            string what = expectedETag is null ? "expected no row, but one exists" : "holds a stale ETag";
            throw new InconsistentStateException(
                $"Write of state '{stateName}' of grain {grainId} failed: the activation {what} (table '{_options.TableName}').",
                stored, expectedETag, e);
        }

        return response.Headers.ETag?.ToString()
            ?? throw new OrleansException($"Azure returned no ETag for the write of state '{stateName}' of grain {grainId}.");
    }

    private async Task<string?> StoredETag(string pk, string rk, CancellationToken cancellationToken)
    {
        var row = await Table.GetEntityIfExistsAsync<TableEntity>(pk, rk, select: [GrainStateColumns.DataSize], cancellationToken)
            .ConfigureAwait(false);
        return row.HasValue ? row.Value!.ETag.ToString() : null;
    }

    private (string PartitionKey, string RowKey) Keys(string stateName, GrainId grainId) =>
        (AzureTableKeys.Escape($"{_serviceId}/{grainId}"), AzureTableKeys.Escape(stateName));

    private void SetEmpty<T>(IGrainState<T> grainState, string? etag)
    {
        grainState.State = Create<T>();
        grainState.ETag = etag;
        grainState.RecordExists = false;
    }

    private T Create<T>() => _activators.GetActivator<T>().Create();
}
