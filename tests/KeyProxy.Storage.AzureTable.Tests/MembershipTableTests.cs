using System.Net;
using Orleans;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable.Tests;

/// <summary>Membership table semantics against Azurite, after Orleans' MembershipTableTestsBase.</summary>
public sealed class MembershipTableTests(AzuriteFixture azurite)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static int s_generation = Environment.TickCount & 0xFFFF;

    private AzureTableClusteringOptions Options(string? table = null) => new()
    {
        ConnectionString = azurite.ConnectionString,
        TableName = table ?? AzuriteFixture.UniqueTableName("Members"),
    };

    private async Task<AzureTableMembershipTable> NewTable(string? clusterId = null, AzureTableClusteringOptions? options = null)
    {
        var table = new AzureTableMembershipTable(options ?? Options(), clusterId ?? "cluster-" + Guid.NewGuid());
        await table.InitializeMembershipTableAsync(true, Ct);
        return table;
    }

    internal static MembershipEntry NewEntry(SiloStatus status = SiloStatus.Joining, int? proxyPort = null)
    {
        var now = DateTime.UtcNow;
        now = new DateTime(now.Ticks - now.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
        var silo = SiloAddress.New(IPAddress.Loopback, 11111, Interlocked.Increment(ref s_generation));
        return new MembershipEntry
        {
            SiloAddress = silo,
            Status = status,
            ProxyPort = proxyPort ?? 30000,
            HostName = "host-a",
            SiloName = "silo-" + silo.Generation,
            RoleName = "edge",
            UpdateZone = 2,
            FaultZone = 3,
            StartTime = now,
            IAmAliveTime = now,
        };
    }

    private static MembershipEntry Clone(MembershipEntry e) => new()
    {
        SiloAddress = e.SiloAddress,
        Status = e.Status,
        SuspectTimes = e.SuspectTimes is null ? null : new(e.SuspectTimes),
        ProxyPort = e.ProxyPort,
        HostName = e.HostName,
        SiloName = e.SiloName,
        RoleName = e.RoleName,
        UpdateZone = e.UpdateZone,
        FaultZone = e.FaultZone,
        StartTime = e.StartTime,
        IAmAliveTime = e.IAmAliveTime,
    };

    [Fact]
    public async Task Initialize_twice_leaves_one_empty_table_at_version_zero()
    {
        var options = Options();
        string cluster = "cluster-" + Guid.NewGuid();
        var first = await NewTable(cluster, options);
        var second = await NewTable(cluster, options);

        var data = await second.ReadAllAsync(Ct);

        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
        Assert.False(string.IsNullOrEmpty(data.Version.VersionEtag));
        Assert.Equal(data.Version, (await first.ReadAllAsync(Ct)).Version);
    }

    [Fact]
    public async Task Inserted_row_reads_back_with_every_field_its_etag_and_the_new_version()
    {
        var table = await NewTable("cluster/with#odd?chars\\" + Guid.NewGuid());
        var empty = await table.ReadAllAsync(Ct);
        var entry = NewEntry();
        entry.AddSuspector(SiloAddress.New(IPAddress.Parse("10.0.0.7"), 11111, 42), entry.IAmAliveTime.AddSeconds(1));
        entry.AddSuspector(SiloAddress.New(IPAddress.IPv6Loopback, 11112, 43), entry.IAmAliveTime.AddSeconds(2));

        Assert.True(await table.InsertRowAsync(entry, empty.Version.Next(), Ct));

        var row = await table.ReadRowAsync(entry.SiloAddress, Ct);
        var all = await table.ReadAllAsync(Ct);
        var (read, etag) = Assert.Single(row.Members);
        Assert.Equal(entry.ToFullString(), read.ToFullString());
        Assert.Equal(entry.StartTime, read.StartTime);
        Assert.Equal(entry.IAmAliveTime, read.IAmAliveTime);
        Assert.Equal(entry.SuspectTimes, read.SuspectTimes);
        Assert.False(string.IsNullOrEmpty(etag));
        Assert.Equal(1, row.Version.Version);
        Assert.NotEqual(empty.Version.VersionEtag, row.Version.VersionEtag);
        Assert.Equal(row.Version, all.Version);
        Assert.Equal(etag, Assert.Single(all.Members).Item2);
    }

    [Fact]
    public async Task ReadRow_of_an_unknown_silo_returns_no_member_and_the_version()
    {
        var table = await NewTable();
        var data = await table.ReadRowAsync(NewEntry().SiloAddress, Ct);
        Assert.Empty(data.Members);
        Assert.Equal(0, data.Version.Version);
    }

    [Fact]
    public async Task Duplicate_insert_and_insert_with_a_stale_version_fail_without_side_effects()
    {
        var table = await NewTable();
        var v0 = (await table.ReadAllAsync(Ct)).Version;
        var entry = NewEntry();
        Assert.True(await table.InsertRowAsync(entry, v0.Next(), Ct));

        Assert.False(await table.InsertRowAsync(entry, v0.Next(), Ct));              // same row, old version
        Assert.False(await table.InsertRowAsync(NewEntry(), v0.Next(), Ct));         // new row, old version
        var v1 = (await table.ReadAllAsync(Ct)).Version;
        Assert.False(await table.InsertRowAsync(entry, v1.Next(), Ct));              // duplicate row, current version

        var after = await table.ReadAllAsync(Ct);
        Assert.Single(after.Members);
        Assert.Equal(v1, after.Version);
    }

    [Fact]
    public async Task UpdateRow_needs_both_the_row_etag_and_the_version_etag()
    {
        var table = await NewTable();
        var entry = NewEntry();
        Assert.True(await table.InsertRow(entry, (await table.ReadAllAsync(Ct)).Version.Next()));
        var data = await table.ReadAllAsync(Ct);
        string etag = data.Members[0].Item2;

        entry.Status = SiloStatus.Active;
        Assert.False(await table.UpdateRowAsync(entry, etag, new TableVersion(2, "W/\"datetime'2001-01-01T00%3A00%3A00Z'\""), Ct));
        Assert.False(await table.UpdateRowAsync(entry, "W/\"datetime'2001-01-01T00%3A00%3A00Z'\"", data.Version.Next(), Ct));
        var unchanged = await table.ReadAllAsync(Ct);
        Assert.Equal(data.Version, unchanged.Version);
        Assert.Equal(etag, unchanged.Members[0].Item2);
        Assert.Equal(SiloStatus.Joining, unchanged.Members[0].Item1.Status);

        Assert.True(await table.UpdateRowAsync(entry, etag, data.Version.Next(), Ct));
        var updated = await table.ReadAllAsync(Ct);
        Assert.Equal(2, updated.Version.Version);
        Assert.Equal(SiloStatus.Active, updated.Members[0].Item1.Status);
        Assert.NotEqual(etag, updated.Members[0].Item2);

        // The old row etag and the old version are both stale now.
        Assert.False(await table.UpdateRowAsync(entry, etag, updated.Version.Next(), Ct));
        Assert.False(await table.UpdateRowAsync(entry, updated.Members[0].Item2, data.Version.Next(), Ct));
        Assert.Equal(updated.Version, (await table.ReadAllAsync(Ct)).Version);
    }

    [Fact]
    public async Task UpdateRow_of_a_missing_row_fails()
    {
        var table = await NewTable();
        var data = await table.ReadAllAsync(Ct);
        Assert.False(await table.UpdateRowAsync(NewEntry(), data.Version.VersionEtag, data.Version.Next(), Ct));
    }

    [Fact]
    public async Task Concurrent_writers_exactly_one_wins_per_version()
    {
        const int writers = 8;
        var table = await NewTable();

        // Racing inserts of different silos against the same version.
        var v0 = (await table.ReadAllAsync(Ct)).Version;
        bool[] inserted = await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => table.InsertRowAsync(NewEntry(), v0.Next(), Ct)));
        Assert.Equal(1, inserted.Count(x => x));

        // Racing updates of the same row from the same snapshot, several rounds.
        for (int round = 0; round < 4; round++)
        {
            var snapshot = await table.ReadAllAsync(Ct);
            var (entry, etag) = snapshot.Members[0];
            bool[] won = await Task.WhenAll(Enumerable.Range(0, writers).Select(i =>
            {
                var mine = Clone(entry);
                mine.HostName = $"writer-{round}-{i}";
                return table.UpdateRowAsync(mine, etag, snapshot.Version.Next(), Ct);
            }));
            Assert.Equal(1, won.Count(x => x));
            var after = await table.ReadAllAsync(Ct);
            Assert.Equal(snapshot.Version.Version + 1, after.Version.Version);
            Assert.Equal($"writer-{round}-{Array.IndexOf(won, true)}", after.Members[0].Item1.HostName);
        }

        // Retrying writers (as Orleans does): every one lands once, the version counts them all.
        var start = (await table.ReadAllAsync(Ct)).Version.Version;
        await Task.WhenAll(Enumerable.Range(0, writers).Select(async i =>
        {
            while (true)
            {
                var data = await table.ReadAllAsync(Ct);
                var (entry, etag) = data.Members[0];
                if (await table.UpdateRowAsync(entry, etag, data.Version.Next(), Ct))
                {
                    return;
                }
            }
        }));
        Assert.Equal(start + writers, (await table.ReadAllAsync(Ct)).Version.Version);
    }

    [Fact]
    public async Task UpdateIAmAlive_changes_only_that_column_and_not_the_version()
    {
        var table = await NewTable();
        var entry = NewEntry();
        Assert.True(await table.InsertRow(entry, (await table.ReadAllAsync(Ct)).Version.Next()));
        var before = await table.ReadAllAsync(Ct);

        var alive = entry.IAmAliveTime.AddSeconds(5);
        await table.UpdateIAmAliveAsync(new MembershipEntry { SiloAddress = entry.SiloAddress, IAmAliveTime = alive }, Ct);

        var after = await table.ReadAllAsync(Ct);
        Assert.Equal(before.Version, after.Version);
        var read = after.Members[0].Item1;
        Assert.Equal(alive, read.IAmAliveTime);
        Assert.Equal(entry.Status, read.Status);
        Assert.Equal(entry.StartTime, read.StartTime);
        Assert.Equal(entry.HostName, read.HostName);
        Assert.Equal(entry.ProxyPort, read.ProxyPort);
    }

    [Fact]
    public async Task Cleanup_removes_old_rows_that_are_not_active()
    {
        var table = await NewTable();
        var old = DateTime.UtcNow.AddDays(-10);
        var kept = new List<MembershipEntry>();
        var removed = new List<MembershipEntry>();
        foreach (var status in Enum.GetValues<SiloStatus>())
        {
            var e = NewEntry(status);
            e.StartTime = old;
            e.IAmAliveTime = old;
            (status == SiloStatus.Active ? kept : removed).Add(e);
        }

        var recentDead = NewEntry(SiloStatus.Dead);
        recentDead.StartTime = old;
        recentDead.IAmAliveTime = old;
        recentDead.AddSuspector(NewEntry().SiloAddress, DateTime.UtcNow); // declared dead just now
        kept.Add(recentDead);
        kept.Add(NewEntry(SiloStatus.Joining));

        foreach (var e in removed.Concat(kept))
        {
            Assert.True(await table.InsertRow(e, (await table.ReadAllAsync(Ct)).Version.Next()));
        }

        var version = (await table.ReadAllAsync(Ct)).Version;
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddDays(-7), Ct);

        var after = await table.ReadAllAsync(Ct);
        Assert.Equal(
            kept.Select(e => e.SiloAddress).OrderBy(a => a.Generation),
            after.Members.Select(m => m.Item1.SiloAddress).OrderBy(a => a.Generation));
        Assert.Equal(version, after.Version);
    }

    [Fact]
    public async Task DeleteMembershipTableEntries_removes_the_cluster_partition_only()
    {
        var options = Options();
        string doomed = "doomed-" + Guid.NewGuid();
        var table = await NewTable(doomed, options);
        var other = await NewTable("other-" + Guid.NewGuid(), options);
        for (int i = 0; i < 3; i++)
        {
            Assert.True(await table.InsertRow(NewEntry(), (await table.ReadAllAsync(Ct)).Version.Next()));
        }

        Assert.True(await other.InsertRow(NewEntry(), (await other.ReadAllAsync(Ct)).Version.Next()));

        await table.DeleteMembershipTableEntriesAsync(doomed, Ct);

        await Assert.ThrowsAsync<OrleansException>(() => table.ReadAllAsync(Ct));
        Assert.Single((await other.ReadAllAsync(Ct)).Members);
        await table.InitializeMembershipTableAsync(true, Ct);
        var fresh = await table.ReadAllAsync(Ct);
        Assert.Empty(fresh.Members);
        Assert.Equal(0, fresh.Version.Version);
    }

    [Fact]
    public async Task ReadAll_over_several_result_pages_and_delete_in_batches()
    {
        // Azure returns at most 1000 entities per page; 1100 rows force the paged (re-checked) snapshot read.
        var options = Options();
        string cluster = "paged-" + Guid.NewGuid();
        var table = await NewTable(cluster, options);
        var client = options.CreateTableClient();
        string pk = AzureTableKeys.Escape(cluster);
        for (int batch = 0; batch < 11; batch++)
        {
            var actions = Enumerable.Range(0, AzureTableMembershipTable.MaxBatchSize)
                .Select(_ => new Azure.Data.Tables.TableTransactionAction(
                    Azure.Data.Tables.TableTransactionActionType.Add, MembershipColumns.ToEntity(pk, NewEntry())))
                .ToList();
            await client.SubmitTransactionAsync(actions, Ct);
        }

        int pages = 0;
        await foreach (var _ in client.QueryAsync<Azure.Data.Tables.TableEntity>($"PartitionKey eq '{pk}'", cancellationToken: Ct).AsPages())
        {
            pages++;
        }

        Assert.True(pages > 1, $"expected several pages, got {pages}");
        var data = await table.ReadAllAsync(Ct);
        Assert.Equal(1100, data.Members.Count);
        Assert.Equal(0, data.Version.Version);

        await table.DeleteMembershipTableEntriesAsync(cluster, Ct);
        await Assert.ThrowsAsync<OrleansException>(() => table.ReadAllAsync(Ct));
    }

    [Fact]
    public async Task Gateway_list_has_the_active_silos_with_a_proxy_port_only()
    {
        var options = Options();
        string cluster = "gw-" + Guid.NewGuid();
        var table = await NewTable(cluster, options);
        var entries = Enumerable.Range(0, 8).Select(_ => NewEntry()).ToArray();
        entries[1].Status = SiloStatus.Active;
        entries[3].Status = SiloStatus.Active;
        entries[3].ProxyPort = 0;
        entries[5].Status = SiloStatus.Active;
        entries[6].Status = SiloStatus.Dead;
        entries[7].Status = SiloStatus.ShuttingDown;
        foreach (var e in entries)
        {
            Assert.True(await table.InsertRow(e, (await table.ReadAllAsync(Ct)).Version.Next()));
        }

        var provider = new AzureTableGatewayListProvider(options, cluster, TimeSpan.FromSeconds(7));
        await provider.InitializeGatewayListProviderAsync(Ct);
        var gateways = await provider.GetGatewaysAsync(Ct);

        Assert.Equal(TimeSpan.FromSeconds(7), provider.MaxStaleness);
        Assert.Equal(
            new[] { entries[1], entries[5] }.Select(e => SiloAddress.New(e.SiloAddress.Endpoint.Address, e.ProxyPort, e.SiloAddress.Generation).ToGatewayUri()).OrderBy(u => u.ToString()),
            gateways.OrderBy(u => u.ToString()));
    }

    [Fact]
    public async Task Gateway_list_of_a_missing_table_is_empty()
    {
        var provider = new AzureTableGatewayListProvider(Options(), "nobody", TimeSpan.FromSeconds(1));
        await provider.InitializeGatewayListProviderAsync(Ct);
        Assert.Empty(await provider.GetGatewaysAsync(Ct));
    }
}
