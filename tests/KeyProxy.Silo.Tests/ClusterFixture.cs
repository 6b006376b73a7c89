using KeyProxy.Abstractions;
using Orleans.TestingHost;

namespace KeyProxy.Silo.Tests;

/// <summary>A one-silo TestCluster with the grains and in-memory "subscribers" storage.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; } = new TestClusterBuilder(1)
        .AddSiloBuilderConfigurator<Configurator>()
        .Build();

    public IGrainFactory Grains => Cluster.GrainFactory;

    public async ValueTask InitializeAsync() => await Cluster.DeployAsync();

    public async ValueTask DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) => siloBuilder
            .AddMemoryGrainStorage(StorageNames.Subscribers)
            .AddMemoryGrainStorage(StorageNames.Directory)
            .UseInMemoryReminderService();
    }
}
