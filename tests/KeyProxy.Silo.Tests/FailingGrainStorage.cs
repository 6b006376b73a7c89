using System.Collections.Concurrent;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// The subscribers' grain storage in memory, whose writes fail while <see cref="FailWrites"/> is set, as a table that
/// is down. One per silo (test classes run side by side): <see cref="Of"/> finds a cluster's.
/// </summary>
internal sealed class FailingGrainStorage(DeepCopier copier) : IGrainStorage
{
    /// <summary>Rows by state name and grain (a subscriber has two: its profile and its session record).</summary>
    private readonly ConcurrentDictionary<(string, GrainId), object> _rows = new();

    public volatile bool FailWrites;

    /// <summary>When set, <see cref="FailWrites"/> refuses only this state's rows (a table refusing one row's write, as on its ETag).</summary>
    public volatile string? FailingState;

    /// <summary>A silo whose subscribers are stored here, with in-memory directory storage and reminders.</summary>
    public sealed class SiloWithIt : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.AddMemoryGrainStorage(StorageNames.Directory);
            // The subscriber's reminder is held while its session record lists sessions (issue 15).
            siloBuilder.UseInMemoryReminderService();
            siloBuilder.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Subscribers,
                (services, _) => new FailingGrainStorage(services.GetRequiredService<DeepCopier>()));
            siloBuilder.Services.AddPlacementDirector<ProxySessionPlacementStrategy, ProxySessionPlacementDirector>();
            siloBuilder.Services.AddPlacementDirector<EdgePlacementStrategy, EdgePlacementDirector>();
        }
    }

    public static FailingGrainStorage Of(TestCluster cluster) =>
        (FailingGrainStorage)((InProcessSiloHandle)cluster.Primary!).SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Subscribers);

    /// <summary>The row as stored, or default when there is none.</summary>
    public T? Stored<T>(string stateName, GrainId grainId) => _rows.TryGetValue((stateName, grainId), out var row) ? copier.Copy((T)row) : default;

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (_rows.TryGetValue((stateName, grainId), out var row))
        {
            grainState.State = copier.Copy((T)row);
            (grainState.ETag, grainState.RecordExists) = ("1", true);
        }
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (FailWrites && (FailingState is null || FailingState == stateName)) throw new IOException("the table refused the write (test)");
        _rows[(stateName, grainId)] = copier.Copy(grainState.State)!;
        (grainState.ETag, grainState.RecordExists) = ("1", true);
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        _rows.TryRemove((stateName, grainId), out _);
        (grainState.ETag, grainState.RecordExists) = (null, false);
        return Task.CompletedTask;
    }
}
