using Azure;
using Azure.Data.Tables;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable;

/// <summary>
/// Orleans membership table on Azure Table storage. One partition per cluster (PartitionKey = escaped cluster id)
/// holding a version row and one row per silo. Inserts and updates of a silo row change the version row in the
/// same entity group transaction, guarded by ETags, so of several concurrent writers exactly one wins.
/// </summary>
public sealed class AzureTableMembershipTable : IMembershipTable
{
    /// <summary>Azure's limit of operations in one entity group transaction.</summary>
    internal const int MaxBatchSize = 100;

    private const int MaxSnapshotAttempts = 5;

    private readonly AzureTableClusteringOptions _options;
    private readonly ILogger _logger;
    private readonly string _partitionKey;
    private TableClient? _table;

    /// <summary>Creates the table object for <paramref name="clusterId"/>; nothing is sent before <see cref="InitializeMembershipTableAsync"/>.</summary>
    public AzureTableMembershipTable(AzureTableClusteringOptions options, string clusterId, ILogger<AzureTableMembershipTable>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        _options = options;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        ClusterId = clusterId;
        _partitionKey = AzureTableKeys.Escape(clusterId);
    }

    /// <summary>The cluster whose partition this table reads and writes.</summary>
    public string ClusterId { get; }

    private TableClient Table => _table ?? throw new InvalidOperationException(
        $"{nameof(InitializeMembershipTableAsync)} must be called before the membership table is used.");

    /// <summary>Creates the table when missing and, if asked, the version row (version 0) when missing.</summary>
    public async Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken = default)
    {
        var table = _options.CreateTableClient();
        await table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
        _table = table;
        if (!tryInitTableVersion)
        {
            return;
        }

        try
        {
            await table.AddEntityAsync(MembershipColumns.VersionRow(_partitionKey, 0), cancellationToken).ConfigureAwait(false);
            _logger.LogInformation("Created the version row of cluster {ClusterId} in table {Table}", ClusterId, _options.TableName);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Another silo (or an earlier run) made it first: that is fine.
        }
    }

    /// <summary>Deletes the whole partition of <paramref name="clusterId"/>, in batches within that partition.</summary>
    public async Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        string pk = AzureTableKeys.Escape(clusterId);
        var keys = new List<string>();
        try
        {
            await foreach (var row in Table.QueryAsync<TableEntity>(
                TableClient.CreateQueryFilter($"PartitionKey eq {pk}"), select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                keys.Add(row.RowKey);
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return;
        }

        for (int i = 0; i < keys.Count; i += MaxBatchSize)
        {
            var batch = new List<TableTransactionAction>(Math.Min(MaxBatchSize, keys.Count - i));
            for (int j = i; j < keys.Count && j < i + MaxBatchSize; j++)
            {
                batch.Add(new TableTransactionAction(TableTransactionActionType.Delete, new TableEntity(pk, keys[j]), ETag.All));
            }

            try
            {
                await Table.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // Someone deleted part of it concurrently; delete the rest one by one.
                foreach (var action in batch)
                {
                    await DeleteIgnoringMissing(action.Entity.PartitionKey, action.Entity.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>
    /// Deletes the rows of silos that are not Active and have said nothing (start, IAmAlive, suspicion)
    /// since <paramref name="beforeDate"/>. Each delete carries the row's ETag, so a concurrently updated row stays.
    /// </summary>
    public async Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken = default)
    {
        var rows = await ReadRows(TableClient.CreateQueryFilter($"PartitionKey eq {_partitionKey}"), cancellationToken).ConfigureAwait(false);
        int removed = 0;
        foreach (var row in rows)
        {
            if (row.RowKey == MembershipColumns.VersionRowKey
                || !MembershipColumns.TryParse(row, out MembershipEntry entry, out _)
                || entry.Status == SiloStatus.Active
                || MembershipColumns.LastUpdate(entry) >= beforeDate.UtcDateTime)
            {
                continue;
            }

            if (await DeleteIgnoringMissing(row.PartitionKey, row.RowKey, row.ETag, cancellationToken).ConfigureAwait(false))
            {
                removed++;
            }
        }

        if (removed > 0)
        {
            _logger.LogInformation("Removed {Count} defunct silo rows of cluster {ClusterId} older than {Date}", removed, ClusterId, beforeDate);
        }
    }

    /// <summary>The row of <paramref name="key"/> (if any) and the table version, read together.</summary>
    public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken = default)
    {
        string rk = MembershipColumns.RowKey(key);
        string filter = TableClient.CreateQueryFilter(
            $"PartitionKey eq {_partitionKey} and (RowKey eq {MembershipColumns.VersionRowKey} or RowKey eq {rk})");
        return ReadSnapshot(filter, cancellationToken);
    }

    /// <summary>Every silo row and the table version, as one consistent snapshot.</summary>
    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken = default) =>
        ReadSnapshot(TableClient.CreateQueryFilter($"PartitionKey eq {_partitionKey}"), cancellationToken);

    /// <summary>Adds the silo row and moves the version row to <paramref name="tableVersion"/> in one transaction.</summary>
    public async Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        if (string.IsNullOrEmpty(tableVersion.VersionEtag))
        {
            return false;
        }

        var batch = new List<TableTransactionAction>(2)
        {
            new(TableTransactionActionType.Add, MembershipColumns.ToEntity(_partitionKey, entry)),
            VersionUpdate(tableVersion),
        };
        return await TrySubmit(batch, "insert", entry.SiloAddress, tableVersion, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Replaces the silo row (if its ETag is still <paramref name="etag"/>) and moves the version row to
    /// <paramref name="tableVersion"/> (if its ETag is still the given one), in one transaction.
    /// </summary>
    public async Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(tableVersion);
        if (string.IsNullOrEmpty(etag) || string.IsNullOrEmpty(tableVersion.VersionEtag))
        {
            return false;
        }

        var batch = new List<TableTransactionAction>(2)
        {
            new(TableTransactionActionType.UpdateReplace, MembershipColumns.ToEntity(_partitionKey, entry), new ETag(etag)),
            VersionUpdate(tableVersion),
        };
        return await TrySubmit(batch, "update", entry.SiloAddress, tableVersion, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Merges only the IAmAlive column, without ETag check; the version row is left alone.</summary>
    public async Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        await Table.UpdateEntityAsync(MembershipColumns.IAmAliveOnly(_partitionKey, entry), ETag.All, TableUpdateMode.Merge, cancellationToken)
            .ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion);

    /// <inheritdoc />
    public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId);

    /// <inheritdoc />
    public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate);

    /// <inheritdoc />
    public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key);

    /// <inheritdoc />
    public Task<MembershipTableData> ReadAll() => ReadAllAsync();

    /// <inheritdoc />
    public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion);

    /// <inheritdoc />
    public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion);

    /// <inheritdoc />
    public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry);

    private TableTransactionAction VersionUpdate(TableVersion tableVersion) =>
        new(TableTransactionActionType.UpdateReplace,
            MembershipColumns.VersionRow(_partitionKey, tableVersion.Version),
            new ETag(tableVersion.VersionEtag));

    private async Task<bool> TrySubmit(
        List<TableTransactionAction> batch, string what, SiloAddress silo, TableVersion version, CancellationToken cancellationToken)
    {
        try
        {
            await Table.SubmitTransactionAsync(batch, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 409 or 412)
        {
            // 409: the silo row exists already; 412: an ETag moved on; 404: a row to update is missing.
            _logger.LogDebug("Membership {What} of {Silo} with version {Version} lost: {Status} {Code}", what, silo, version, e.Status, e.ErrorCode);
            return false;
        }
    }

    private async Task<bool> DeleteIgnoringMissing(string pk, string rk, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await Table.DeleteEntityAsync(pk, rk, etag, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            return false;
        }
    }

    private async Task<List<TableEntity>> ReadRows(string filter, CancellationToken cancellationToken)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// Reads the rows of <paramref name="filter"/>. A single page is one consistent read. When Azure splits the
    /// result into pages, the version row (which sorts first) is read again afterwards: an unchanged ETag proves
    /// no insert or update committed meanwhile; otherwise the read is repeated.
    /// </summary>
    private async Task<MembershipTableData> ReadSnapshot(string filter, CancellationToken cancellationToken)
    {
        for (int attempt = 0; attempt < MaxSnapshotAttempts; attempt++)
        {
            var rows = new List<TableEntity>();
            int pages = 0;
            await foreach (var page in Table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken).AsPages().ConfigureAwait(false))
            {
                pages++;
                rows.AddRange(page.Values);
            }

            TableEntity? versionRow = null;
            var members = new List<Tuple<MembershipEntry, string>>(rows.Count);
            foreach (var row in rows)
            {
                if (row.RowKey == MembershipColumns.VersionRowKey)
                {
                    versionRow = row;
                }
                else if (MembershipColumns.TryParse(row, out MembershipEntry entry, out string? error))
                {
                    members.Add(Tuple.Create(entry, row.ETag.ToString()));
                }
                else
                {
                    _logger.LogError("Ignoring unreadable membership row {RowKey} of cluster {ClusterId}: {Error}", row.RowKey, ClusterId, error);
                }
            }

            if (versionRow is null)
            {
                throw new OrleansException(
                    $"The membership partition of cluster '{ClusterId}' in table '{_options.TableName}' has no version row; InitializeMembershipTable(true) has not run.");
            }

            if (pages > 1)
            {
                var again = await Table.GetEntityIfExistsAsync<TableEntity>(_partitionKey, MembershipColumns.VersionRowKey, cancellationToken: cancellationToken).ConfigureAwait(false);
                if (!again.HasValue || again.Value!.ETag != versionRow.ETag)
                {
                    continue;
                }
            }

            var version = new TableVersion(versionRow.GetInt32(MembershipColumns.Version) ?? 0, versionRow.ETag.ToString());
            return new MembershipTableData(members, version);
        }

        throw new OrleansException(
            $"Could not read a consistent snapshot of the membership of cluster '{ClusterId}' in {MaxSnapshotAttempts} attempts.");
    }
}
