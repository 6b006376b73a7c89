using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace KeyProxy.Testing;

/// <summary>The silo tests' side of <see cref="FailingGrainStorage"/>: one per TestCluster silo (test classes run side by side).</summary>
internal sealed partial class FailingGrainStorage
{
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

    /// <summary>The storage of <paramref name="cluster"/>'s primary silo.</summary>
    public static FailingGrainStorage Of(TestCluster cluster) =>
        (FailingGrainStorage)((InProcessSiloHandle)cluster.Primary!).SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Subscribers);
}
