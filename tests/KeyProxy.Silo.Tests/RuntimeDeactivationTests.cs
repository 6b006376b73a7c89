using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
using KeyProxy.Silo.Storage;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Storage;
using Orleans.TestingHost;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Issue 15: Orleans deactivates an activation on a live silo when the silo that held its grain directory entry dies
/// (DirectoryFailure), and a killed silo takes its activations without a word. The subscriber's list of proxy sessions
/// was in memory only: deactivated so, it forgot a session that had died, and that session's SAs stayed at the handset
/// (bob's old SA in the edge kill -9 fault test). Here the deactivation is the runtime's own call (through a grain
/// extension), nothing else calls the subscriber afterwards, and the SAs of the dead session must still be owed to the
/// handset: from the durable session record, which its reminder brings the subscriber back to audit.
/// </summary>
public sealed class RuntimeDeactivationTests : IAsyncLifetime
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
    public async Task A_subscriber_deactivated_for_a_directory_failure_still_audits_its_sessions_and_owes_the_dead_ones_SA_deletes()
    {
        const string nai = "erin@keyproxy.test";
        var ct = TestContext.Current.CancellationToken;
        var grains = _cluster.GrainFactory;
        var subscriber = await AttachedSubscriber.AttachAsync(grains, nai, UnreachableEdge, 7, "127.0.1.6", _cluster.Primary!.SiloAddress);

        // A session lists the SAs it gave the handset (it never ran here: any probe finds it dead), and before the
        // first audit (1 s) the runtime deactivates the subscriber as for a dead directory partition.
        Assert.True(await subscriber.RenewSession(Guid.NewGuid(), UnreachableEdge, 7, "192.0.2.10", [0x3333, 0x4444]));
        await subscriber.AsReference<IRuntimeDeactivation>().Deactivate(DeactivationReasonCode.DirectoryFailure);

        // Nothing calls the subscriber again: it comes back by itself, audits the stored list and owes the SA delete
        // (stored, since the handset's edge does not answer).
        var grainId = subscriber.GetGrainId();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        SubscriberState stored;
        do
        {
            await Task.Delay(100, ct);
            stored = await ReadStoredAsync(grainId);
        }
        while (stored.PendingSaDeletes.Count == 0 && DateTime.UtcNow < deadline);

        var owed = Assert.Single(stored.PendingSaDeletes);
        Assert.Equal((7u, "192.0.2.10"), (owed.TunnelId, owed.Peer));
        Assert.Equal([0x3333u, 0x4444u], owed.InboundSpis.Order());
        Assert.Empty(stored.ListedSessions);
    }

    [Fact]
    public async Task A_subscriber_and_its_session_that_die_together_leave_the_session_s_SA_owed_to_the_handset_by_the_reminder()
    {
        const string nai = "frank@keyproxy.test";
        var ct = TestContext.Current.CancellationToken;
        var grains = _cluster.GrainFactory;
        var subscriber = await AttachedSubscriber.AttachAsync(grains, nai, UnreachableEdge, 8, "127.0.1.7", _cluster.Primary!.SiloAddress);

        // A session begins: the subscriber lists it with the SPI its first CHILD_SA will have and hands it the grant with
        // which it seals that install itself (no further call to the subscriber before the SA is at the handset).
        var session = Guid.NewGuid();
        var credentials = await subscriber.BeginSession(session, 8, "192.0.2.11", 0x5555);
        Assert.NotNull(credentials?.Grant);

        // Both die together, as on one killed silo, before any audit or renewal: the subscriber is dropped without a word
        // (an explicit DeactivateOnIdle writes nothing, like a kill -9), and the session never lives again (no activation
        // of it exists; a probe finds a fresh one). Nothing calls the subscriber afterwards.
        await subscriber.AsReference<IRuntimeDeactivation>().Deactivate(DeactivationReasonCode.ApplicationRequested);

        // The session record was written before the grant left and the reminder held with it: the reminder brings the
        // subscriber back, its audit finds the session gone and owes the handset the delete of that SA (stored, since
        // the handset's edge does not answer here). Before issue 15's record the list died with the activation.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        SubscriberState stored;
        do
        {
            await Task.Delay(100, ct);
            stored = await ReadStoredAsync(subscriber.GetGrainId());
        }
        while (stored.PendingSaDeletes.Count == 0 && DateTime.UtcNow < deadline);

        var owed = Assert.Single(stored.PendingSaDeletes);
        Assert.Equal((8u, "192.0.2.11"), (owed.TunnelId, owed.Peer));
        Assert.Equal([0x5555u], owed.InboundSpis);
    }

    [Fact]
    public async Task The_session_record_holds_an_install_s_SPI_before_the_install_is_sealed_and_forgets_an_ended_session_at_the_next_audit()
    {
        const string nai = "gina@keyproxy.test";
        var ct = TestContext.Current.CancellationToken;
        var grains = _cluster.GrainFactory;
        var subscriber = await AttachedSubscriber.AttachAsync(grains, nai, UnreachableEdge, 9, "127.0.1.8", _cluster.Primary!.SiloAddress);
        var session = Guid.NewGuid();
        Assert.NotNull((await subscriber.BeginSession(session, 9, "192.0.2.12", 0x6666))?.Grant);
        var record = await ReadRecordAsync(subscriber.GetGrainId());
        Assert.Equal([0x6666u], Assert.Single(record.Sessions, s => s.Session == session).InboundSpis);

        // The session ended (it delivered its own deletes): it leaves the record with the next audit's write.
        await subscriber.SessionEnded(session);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await ReadRecordAsync(subscriber.GetGrainId())).Sessions.Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(100, ct);
        Assert.Empty((await ReadRecordAsync(subscriber.GetGrainId())).Sessions);
    }

    private async Task<SubscriberSessionsState> ReadRecordAsync(GrainId grainId)
    {
        var state = new GrainState<SubscriberSessionsState>();
        await Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Subscribers).ReadStateAsync(SubscriberGrain.SessionRecordName, grainId, state);
        return state.State ?? new SubscriberSessionsState();
    }

    private IServiceProvider Services => ((InProcessSiloHandle)_cluster.Primary!).SiloHost!.Services;

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
                // The silo's own row format (the memory provider's default names types, and cannot read back a
                // profile once a reactivated grain wrote it again).
                .AddMemoryGrainStorage(StorageNames.Subscribers, o => o.GrainStorageSerializer = new SubscriberRowSerializer(new UnprotectedSecrets()))
                .AddMemoryGrainStorage(StorageNames.Directory)
                .UseInMemoryReminderService()
                .Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1))
                .AddGrainExtension<IRuntimeDeactivation, RuntimeDeactivation>();
            siloBuilder.Services.AddSingleton(Options.Create(new ProxyNetworkOptions
            {
                SessionAuditInterval = TimeSpan.FromSeconds(1),
                PendingDeleteRetry = TimeSpan.FromSeconds(1),
            }));
            siloBuilder.Services.AddPlacementDirector<ProxySessionPlacementStrategy, ProxySessionPlacementDirector>();
            siloBuilder.Services.AddPlacementDirector<EdgePlacementStrategy, EdgePlacementDirector>();
        }
    }
}

/// <summary>Deactivates the grain with a reason of the runtime's (as the grain directory does when a silo dies).</summary>
public interface IRuntimeDeactivation : IGrainExtension
{
    Task Deactivate(DeactivationReasonCode code);
}

public sealed class RuntimeDeactivation(IGrainContext context) : IRuntimeDeactivation
{
    public Task Deactivate(DeactivationReasonCode code)
    {
        context.Deactivate(new DeactivationReason(code, "test: the silo that held this grain's directory entry died"));
        return Task.CompletedTask;
    }
}
