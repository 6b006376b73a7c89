using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace KeyProxy.Storage.AzureTable.Tests;

[GenerateSerializer]
public sealed class BlobState
{
    [Id(0)] public string Name { get; set; } = string.Empty;
    [Id(1)] public int Counter { get; set; }
    [Id(2)] public byte[] Payload { get; set; } = [];
}

/// <summary>Grain storage semantics against Azurite.</summary>
public sealed class GrainStorageTests(AzuriteFixture azurite)
{
    private const string StateName = "blob";
    private static readonly ServiceProvider Services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    private async Task<AzureTableGrainStorage> NewStorage(bool deleteOnClear = true, string? table = null)
    {
        var options = new AzureTableGrainStorageOptions
        {
            ConnectionString = azurite.ConnectionString,
            TableName = table ?? AzuriteFixture.UniqueTableName("State"),
            DeleteStateOnClear = deleteOnClear,
            GrainStorageSerializer = new OrleansGrainStorageSerializer(Services.GetRequiredService<Serializer>()),
        };
        var storage = new AzureTableGrainStorage("test", options, "service/" + Guid.NewGuid(), Services.GetRequiredService<IActivatorProvider>());
        await storage.InitializeAsync(TestContext.Current.CancellationToken);
        return storage;
    }

    private static GrainId NewGrain() => GrainId.Create("subscriber", "imsi-" + Guid.NewGuid());

    private static async Task<GrainState<BlobState>> Read(IGrainStorage storage, GrainId grain)
    {
        var state = new GrainState<BlobState>();
        await storage.ReadStateAsync(StateName, grain, state);
        return state;
    }

    [Fact]
    public async Task Reading_a_missing_state_gives_a_fresh_state_without_record()
    {
        var storage = await NewStorage();
        var state = await Read(storage, NewGrain());
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.NotNull(state.State);
        Assert.Equal(0, state.State!.Counter);
    }

    [Fact]
    public async Task Written_state_reads_back_with_its_etag()
    {
        var storage = await NewStorage();
        var grain = NewGrain();
        var state = new GrainState<BlobState> { State = new BlobState { Name = "alice", Counter = 7, Payload = [1, 2, 3] } };

        await storage.WriteStateAsync(StateName, grain, state);
        Assert.True(state.RecordExists);
        Assert.NotNull(state.ETag);

        var read = await Read(storage, grain);
        Assert.True(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal("alice", read.State!.Name);
        Assert.Equal(7, read.State!.Counter);
        Assert.Equal(new byte[] { 1, 2, 3 }, read.State!.Payload);

        read.State!.Counter = 8;
        await storage.WriteStateAsync(StateName, grain, read);
        Assert.NotEqual(state.ETag, read.ETag);
        Assert.Equal(8, (await Read(storage, grain)).State!.Counter);
    }

    [Fact]
    public async Task Write_with_a_stale_etag_throws_InconsistentStateException_with_both_etags()
    {
        var storage = await NewStorage();
        var grain = NewGrain();
        var first = new GrainState<BlobState> { State = new BlobState { Counter = 1 } };
        await storage.WriteStateAsync(StateName, grain, first);
        var stale = await Read(storage, grain);
        first.State!.Counter = 2;
        await storage.WriteStateAsync(StateName, grain, first);

        stale.State!.Counter = 99;
        var ex = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, stale));
        Assert.Equal(first.ETag, ex.StoredEtag);
        Assert.Equal(stale.ETag, ex.CurrentEtag);
        Assert.Equal(2, (await Read(storage, grain)).State!.Counter);
    }

    [Fact]
    public async Task First_write_that_finds_a_row_throws_InconsistentStateException()
    {
        var storage = await NewStorage();
        var grain = NewGrain();
        var a = new GrainState<BlobState> { State = new BlobState { Counter = 1 } };
        var b = new GrainState<BlobState> { State = new BlobState { Counter = 2 } };
        await storage.WriteStateAsync(StateName, grain, a);

        var ex = await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, b));
        Assert.Equal(a.ETag, ex.StoredEtag);
        Assert.Null(ex.CurrentEtag);
    }

    [Fact]
    public async Task Clear_deletes_the_row_and_a_new_write_starts_over()
    {
        var storage = await NewStorage();
        var grain = NewGrain();
        var state = new GrainState<BlobState> { State = new BlobState { Counter = 5 } };
        await storage.WriteStateAsync(StateName, grain, state);
        var stale = await Read(storage, grain);

        await storage.ClearStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Equal(0, state.State!.Counter);
        var read = await Read(storage, grain);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);

        // Clearing again is harmless; the stale activation cannot write.
        await storage.ClearStateAsync(StateName, grain, state);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, stale));

        state.State!.Counter = 6;
        await storage.WriteStateAsync(StateName, grain, state);
        Assert.Equal(6, (await Read(storage, grain)).State!.Counter);
    }

    [Fact]
    public async Task Clear_with_a_stale_etag_throws_and_keeps_the_row()
    {
        var storage = await NewStorage();
        var grain = NewGrain();
        var state = new GrainState<BlobState> { State = new BlobState { Counter = 1 } };
        await storage.WriteStateAsync(StateName, grain, state);
        var stale = await Read(storage, grain);
        await storage.WriteStateAsync(StateName, grain, state);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(StateName, grain, stale));
        Assert.True((await Read(storage, grain)).RecordExists);
    }

    [Fact]
    public async Task Clear_that_keeps_the_row_writes_an_empty_state_and_keeps_the_etag_chain()
    {
        var storage = await NewStorage(deleteOnClear: false);
        var grain = NewGrain();
        var state = new GrainState<BlobState> { State = new BlobState { Counter = 3 } };
        await storage.WriteStateAsync(StateName, grain, state);
        var stale = await Read(storage, grain);

        await storage.ClearStateAsync(StateName, grain, state);
        Assert.False(state.RecordExists);
        Assert.NotNull(state.ETag);

        var read = await Read(storage, grain);
        Assert.False(read.RecordExists);
        Assert.Equal(state.ETag, read.ETag);
        Assert.Equal(0, read.State!.Counter);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, stale));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(StateName, grain, new GrainState<BlobState>(new BlobState())));

        read.State!.Counter = 4;
        await storage.WriteStateAsync(StateName, grain, read);
        var again = await Read(storage, grain);
        Assert.True(again.RecordExists);
        Assert.Equal(4, again.State!.Counter);
    }

    [Fact]
    public async Task Large_state_spans_several_columns_and_round_trips()
    {
        var storage = await NewStorage();
        var grain = NewGrain();
        var payload = new byte[500 * 1024];
        new Random(7).NextBytes(payload);
        var state = new GrainState<BlobState> { State = new BlobState { Name = "big", Payload = payload } };

        await storage.WriteStateAsync(StateName, grain, state);
        var read = await Read(storage, grain);

        Assert.Equal(payload, read.State!.Payload);
        Assert.Equal("big", read.State!.Name);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact]
    public async Task State_above_the_entity_limit_fails_clearly_and_writes_nothing()
    {
        var storage = await NewStorage();
        var grain = NewGrain();
        var state = new GrainState<BlobState> { State = new BlobState { Counter = 1 } };
        await storage.WriteStateAsync(StateName, grain, state);
        string etag = state.ETag!;

        state.State!.Payload = new byte[1100 * 1024];
        var ex = await Assert.ThrowsAsync<GrainStateTooLargeException>(() => storage.WriteStateAsync(StateName, grain, state));
        Assert.Contains("1048576", ex.Message);
        Assert.Equal(etag, state.ETag);

        var read = await Read(storage, grain);
        Assert.Equal(etag, read.ETag);
        Assert.Empty(read.State!.Payload);
    }

    [Fact]
    public void Entity_size_follows_Azure_formula_and_columns_stay_within_64_KiB()
    {
        var data = new byte[GrainStateColumns.MaxColumnBytes * 2 + 1];
        var entity = GrainStateColumns.ToEntity("pk", "rk", data, "s", NewGrain());
        Assert.Equal(3, entity.Keys.Count(k => k.StartsWith(GrainStateColumns.DataPrefix, StringComparison.Ordinal) && k != GrainStateColumns.DataSize));
        Assert.Equal(data.Length, GrainStateColumns.ReadData(entity).Length);

        // 4 + 2*(2+2) keys, Timestamp 8+18+8, DataSize 8+16+4, 3 columns of 8+10+4, the data.
        Assert.Equal(4 + 8 + 34 + 28 + 3 * 22 + data.Length, GrainStateColumns.EntitySize("pk", "rk", data.Length, 3));
    }

    [Fact]
    public async Task States_of_different_grains_and_names_do_not_mix()
    {
        var storage = await NewStorage();
        var g1 = NewGrain();
        var g2 = NewGrain();
        await storage.WriteStateAsync(StateName, g1, new GrainState<BlobState>(new BlobState { Counter = 1 }));
        await storage.WriteStateAsync(StateName, g2, new GrainState<BlobState>(new BlobState { Counter = 2 }));
        await storage.WriteStateAsync("other/name#", g1, new GrainState<BlobState>(new BlobState { Counter = 3 }));

        Assert.Equal(1, (await Read(storage, g1)).State!.Counter);
        Assert.Equal(2, (await Read(storage, g2)).State!.Counter);
        var other = new GrainState<BlobState>();
        await storage.ReadStateAsync("other/name#", g1, other);
        Assert.Equal(3, other.State!.Counter);
    }
}
