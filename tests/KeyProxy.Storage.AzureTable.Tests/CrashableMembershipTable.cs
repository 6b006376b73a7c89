using System.Collections.Concurrent;
using Orleans;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable.Tests;

/// <summary>
/// Wraps a silo's membership table so a test can make the silo vanish as a crashed process would. An in-process
/// kill still lets the silo write its own Dead row on the way out (and waits a minute if the table fails), so once
/// <see cref="Crash"/> is called for a silo its writes are swallowed: they report success and change nothing.
/// Only the survivors' failure detection can then mark it Dead. Reads still pass through.
/// </summary>
internal sealed class CrashableMembershipTable(IMembershipTable inner, string switchKey) : IMembershipTable
{
    private static readonly ConcurrentDictionary<string, bool> Crashed = new();

    public static string Key(string clusterId, string siloName) => clusterId + "/" + siloName;

    public static void Crash(string clusterId, string siloName) => Crashed[Key(clusterId, siloName)] = true;

    private bool IsCrashed => Crashed.ContainsKey(switchKey);

    private IMembershipTable Inner => inner;

    [Obsolete("legacy member")] public Task InitializeMembershipTable(bool tryInitTableVersion) => InitializeMembershipTableAsync(tryInitTableVersion, default);
    [Obsolete("legacy member")] public Task DeleteMembershipTableEntries(string clusterId) => DeleteMembershipTableEntriesAsync(clusterId, default);
    [Obsolete("legacy member")] public Task CleanupDefunctSiloEntries(DateTimeOffset beforeDate) => CleanupDefunctSiloEntriesAsync(beforeDate, default);
    [Obsolete("legacy member")] public Task<MembershipTableData> ReadRow(SiloAddress key) => ReadRowAsync(key, default);
    [Obsolete("legacy member")] public Task<MembershipTableData> ReadAll() => ReadAllAsync(default);
    [Obsolete("legacy member")] public Task<bool> InsertRow(MembershipEntry entry, TableVersion tableVersion) => InsertRowAsync(entry, tableVersion, default);
    [Obsolete("legacy member")] public Task<bool> UpdateRow(MembershipEntry entry, string etag, TableVersion tableVersion) => UpdateRowAsync(entry, etag, tableVersion, default);
    [Obsolete("legacy member")] public Task UpdateIAmAlive(MembershipEntry entry) => UpdateIAmAliveAsync(entry, default);

    public Task InitializeMembershipTableAsync(bool tryInitTableVersion, CancellationToken cancellationToken) => Inner.InitializeMembershipTableAsync(tryInitTableVersion, cancellationToken);

    public Task DeleteMembershipTableEntriesAsync(string clusterId, CancellationToken cancellationToken) => Inner.DeleteMembershipTableEntriesAsync(clusterId, cancellationToken);

    public Task CleanupDefunctSiloEntriesAsync(DateTimeOffset beforeDate, CancellationToken cancellationToken) => Inner.CleanupDefunctSiloEntriesAsync(beforeDate, cancellationToken);

    public Task<MembershipTableData> ReadRowAsync(SiloAddress key, CancellationToken cancellationToken) => Inner.ReadRowAsync(key, cancellationToken);

    public Task<MembershipTableData> ReadAllAsync(CancellationToken cancellationToken) => Inner.ReadAllAsync(cancellationToken);

    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion tableVersion, CancellationToken cancellationToken) =>
        IsCrashed ? Task.FromResult(true) : Inner.InsertRowAsync(entry, tableVersion, cancellationToken);

    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion tableVersion, CancellationToken cancellationToken) =>
        IsCrashed ? Task.FromResult(true) : Inner.UpdateRowAsync(entry, etag, tableVersion, cancellationToken);

    public Task UpdateIAmAliveAsync(MembershipEntry entry, CancellationToken cancellationToken) =>
        IsCrashed ? Task.CompletedTask : Inner.UpdateIAmAliveAsync(entry, cancellationToken);
}
