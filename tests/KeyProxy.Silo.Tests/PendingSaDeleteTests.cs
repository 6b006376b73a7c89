using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using Orleans.TestingHost;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Issue 14, timers that must outlive a silo: an SA delete a subscriber owes its handset (a proxy session died, the
/// handset's edge does not answer) is kept in the subscriber's stored state under a reminder, not in a timer's memory,
/// and both go once the delete is moot. Audit every 200 ms, the reminder every second (Orleans' minimum lowered).
/// </summary>
public sealed class PendingSaDeleteTests : IAsyncLifetime
{
    private const string UnreachableEdge = "edge-nobody-runs";

    private readonly TestCluster _cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<Configurator>().Build();

    public async ValueTask InitializeAsync() => await _cluster.DeployAsync();

    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task An_SA_delete_owed_to_an_unreachable_edge_is_stored_under_a_reminder_until_the_handset_detaches()
    {
        const string nai = "dora@keyproxy.test";
        var grains = _cluster.GrainFactory;
        var subscriber = await AttachedSubscriber.AttachAsync(grains, nai, UnreachableEdge, 7, "127.0.1.5", _cluster.Primary!.SiloAddress);

        // A session lists the SAs it gave the handset; it never started here, so the audit's probe finds it dead.
        Assert.True(await subscriber.RenewSession(Guid.NewGuid(), UnreachableEdge, 7, "192.0.2.9", [0x1111, 0x2222]));

        var grainId = subscriber.GetGrainId();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        SubscriberState stored;
        ReminderEntry? reminder;
        do
        {
            await Task.Delay(100, TestContext.Current.CancellationToken);
            stored = await ReadStoredAsync(grainId);
            reminder = await Reminders.ReadRow(grainId, SubscriberGrain.PendingDeletesReminder, TestContext.Current.CancellationToken);
        }
        while ((stored.PendingSaDeletes.Count == 0 || reminder is null) && DateTime.UtcNow < deadline);

        var owed = Assert.Single(stored.PendingSaDeletes);
        Assert.Equal((7u, "192.0.2.9"), (owed.TunnelId, owed.Peer));
        Assert.Equal([0x1111u, 0x2222u], owed.InboundSpis.Order());
        Assert.NotNull(reminder);

        // The edge reports the handset gone: it dropped those SAs itself, so nothing is owed any more.
        await subscriber.Detached(UnreachableEdge, 7);
        Assert.Empty((await ReadStoredAsync(grainId)).PendingSaDeletes);
        Assert.Null(await Reminders.ReadRow(grainId, SubscriberGrain.PendingDeletesReminder, TestContext.Current.CancellationToken));
    }

    private IServiceProvider Services => ((InProcessSiloHandle)_cluster.Primary!).SiloHost!.Services;

    private IReminderTable Reminders => Services.GetRequiredService<IReminderTable>();

    private async Task<SubscriberState> ReadStoredAsync(GrainId grainId)
    {
        var state = new GrainState<SubscriberState>();
        await Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Subscribers).ReadStateAsync("subscriber", grainId, state);
        return state.State ?? throw new InvalidOperationException("the storage returned no state");
    }

    private sealed class Configurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder
                .AddMemoryGrainStorage(StorageNames.Subscribers)
                .AddMemoryGrainStorage(StorageNames.Directory)
                .UseInMemoryReminderService()
                .Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            siloBuilder.Services.AddSingleton(Options.Create(new ProxyNetworkOptions
            {
                SessionAuditInterval = TimeSpan.FromMilliseconds(200),
                PendingDeleteRetry = TimeSpan.FromSeconds(1),
            }));
            // As the silo host does; an edge grain lives only on the silo named after its edge, here none.
            siloBuilder.Services.AddPlacementDirector<ProxySessionPlacementStrategy, ProxySessionPlacementDirector>();
            siloBuilder.Services.AddPlacementDirector<EdgePlacementStrategy, EdgePlacementDirector>();
        }
    }
}
