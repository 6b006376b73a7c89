using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
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
    private const string Nai = "gus@keyproxy.test";

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

    private AttachAttempt Attempt(string edgeId, uint tunnelId)
    {
        var (handsetNonce, edgeNonce) = (RandomNumberGenerator.GetBytes(16), RandomNumberGenerator.GetBytes(16));
        var proof = AttachProofs.ComputeAttachProof(SubscriberKeys.DeriveAttachKey(TestProfiles.Secret), new SubscriberIdentity(IdentityType.Nai, Nai),
            Nonce16.Read(handsetNonce), Nonce16.Read(edgeNonce));
        return new AttachAttempt(edgeId, handsetNonce, edgeNonce, proof, tunnelId, "127.0.1." + tunnelId, _cluster.Primary!.SiloAddress);
    }
}
