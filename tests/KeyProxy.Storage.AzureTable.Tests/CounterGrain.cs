using Orleans;
using Orleans.Runtime;

namespace KeyProxy.Storage.AzureTable.Tests;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment();

    Task<int> Get();

    Task<SiloAddress> Host();

    Task Deactivate();
}

[GenerateSerializer]
public sealed class CounterState
{
    [Id(0)] public int Value { get; set; }
}

/// <summary>A counter persisted through the Azure Table grain storage named "AzureTable".</summary>
public sealed class CounterGrain(
    [PersistentState("counter", ClusterTests.StorageName)] IPersistentState<CounterState> counter,
    ILocalSiloDetails silo) : Grain, ICounterGrain
{
    public async Task<int> Increment()
    {
        counter.State.Value++;
        await counter.WriteStateAsync();
        return counter.State.Value;
    }

    public Task<int> Get() => Task.FromResult(counter.State.Value);

    public Task<SiloAddress> Host() => Task.FromResult(silo.SiloAddress);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}
