using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
using KeyProxy.Testing;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using Orleans.TestingHost;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Issue 15, found by the chaos soak: an attach or detach whose write storage refused must leave the subscriber as
/// stored, not as it would have been. A detach cleared the attachment in memory only, so the handset's next attach at
/// another edge found no earlier attachment to revoke, and the old edge kept the handset's tunnel for good.
/// </summary>
public sealed class AttachmentWriteFailureTests : IAsyncLifetime
{
    private const string Nai = "gus@keyproxy.test", OtherNai = "hal@keyproxy.test";

    private readonly TestCluster _cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<FailingGrainStorage.SiloWithIt>().Build();

    public async ValueTask InitializeAsync() => await _cluster.DeployAsync();

    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task An_attach_that_storage_refused_leaves_the_earlier_attachment_in_place_for_the_next_attach_to_revoke()
    {
        var subscriber = await AttachedSubscriber.AttachAsync(_cluster.GrainFactory, Nai, "edge-one", 1, "127.0.1.1", _cluster.Primary!.SiloAddress);
        var storage = FailingGrainStorage.Of(_cluster);

        storage.FailWrites = true;
        await Assert.ThrowsAnyAsync<Exception>(() => subscriber.Attach(Attempt("edge-two", 2)));
        storage.FailWrites = false;

        // What the subscriber reports is what storage holds: still attached at edge-one (the attach at edge-two did not happen).
        var summary = await _cluster.GrainFactory.GetGrain<ISubscriberGrain>(Nai).GetSummary();
        Assert.Equal(("edge-one", 1u), (summary!.Attachment!.EdgeId, summary.Attachment.TunnelId));
        var stored = storage.Stored<SubscriberState>("subscriber", subscriber.GetGrainId());
        Assert.Equal(("edge-one", 1u), (stored!.Attachment!.EdgeId, stored.Attachment.TunnelId));

        // Storage back: the handset's retried attach at edge-two succeeds over that attachment.
        var outcome = await subscriber.Attach(Attempt("edge-two", 3));
        Assert.True(outcome.Accepted, outcome.Text);
        summary = await _cluster.GrainFactory.GetGrain<ISubscriberGrain>(Nai).GetSummary();
        Assert.Equal(("edge-two", 3u), (summary!.Attachment!.EdgeId, summary.Attachment.TunnelId));
    }

    [Fact]
    public async Task A_subscriber_on_its_edge_silo_that_makes_way_after_a_refused_write_stores_its_session_record_on_the_way_out()
    {
        // Attached at an edge on this very silo: sessions begun here are not written before their install (the handset's
        // edge silo dying takes its tunnel too), only when the activation ends on a live silo.
        var edgeHere = _cluster.Primary!.Name;
        var subscriber = await AttachedSubscriber.AttachAsync(_cluster.GrainFactory, OtherNai, edgeHere, 4, "127.0.1.4", _cluster.Primary.SiloAddress);
        var session = Guid.NewGuid();
        Assert.NotNull((await subscriber.BeginSession(session, 4, "192.0.2.14", 0x7777))?.Grant);
        var storage = FailingGrainStorage.Of(_cluster);
        Assert.Null(storage.Stored<SubscriberSessionsState>(SubscriberGrain.SessionRecordName, subscriber.GetGrainId()));

        // The profile row refuses an attach's write: the activation makes way. Its session record is a row of its own,
        // and the only place that session is listed; it must be stored as the activation ends, or a death of the session
        // before the next activation hears of it strands its SA at the handset.
        storage.FailingState = "subscriber";
        storage.FailWrites = true;
        try { await Assert.ThrowsAnyAsync<Exception>(() => subscriber.Attach(Attempt("edge-two", 5, OtherNai))); }
        finally { storage.FailWrites = false; }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        SubscriberSessionsState? record;
        while ((record = storage.Stored<SubscriberSessionsState>(SubscriberGrain.SessionRecordName, subscriber.GetGrainId())) is null && DateTime.UtcNow < deadline)
            await Task.Delay(50, TestContext.Current.CancellationToken);
        Assert.NotNull(record);
        Assert.Equal([0x7777u], Assert.Single(record.Sessions, s => s.Session == session).InboundSpis);
    }

    private AttachAttempt Attempt(string edgeId, uint tunnelId, string nai = Nai)
    {
        var (handsetNonce, edgeNonce) = (RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(16));
        var proof = AttachProofs.ComputeAttachProof(SubscriberKeys.DeriveAttachKey(TestProfiles.Secret), new SubscriberIdentity(IdentityType.Nai, nai),
            Nonce16.Read(handsetNonce), Nonce16.Read(edgeNonce));
        return new AttachAttempt(edgeId, handsetNonce, edgeNonce, proof, tunnelId, "127.0.1." + tunnelId, _cluster.Primary!.SiloAddress);
    }
}
