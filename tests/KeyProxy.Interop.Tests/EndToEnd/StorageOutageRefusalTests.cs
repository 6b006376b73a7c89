using System.Diagnostics;
using KeyProxy.Abstractions;
using KeyProxy.Handset;
using KeyProxy.Interop.Tests.Fixtures;
using KeyProxy.Testing;
using KeyProxy.Wire;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Interop.Tests.EndToEnd;

/// <summary>
/// Issue 15, finding 4 of the chaos soak: in a storage outage a handset's proxy request got neither an SA nor a refusal,
/// because the SA the proxy made with the peer could not be sealed for the handset (the subscriber must write before it
/// seals) and nothing else answered. Every request is answered within the network's stated time
/// (<see cref="ProxyNetworkOptions.RequestAnswerTimeout"/>), before the handset's own patience ends, and the SA it could
/// not hand over does not stay at the peer.
/// </summary>
public sealed class StorageOutageRefusalTests(ITestOutputHelper output)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly TimeSpan AnswerTimeout = TimeSpan.FromSeconds(8);

    [Fact]
    public async Task A_request_whose_SA_cannot_be_handed_over_while_storage_refuses_writes_is_refused_with_a_reason_and_the_peer_keeps_no_SA()
    {
        FailingGrainStorage? storage = null;
        await using var world = await ProxiedWorld.StartAsync(
            settings: new Dictionary<string, string> { ["KeyProxy:Network:RequestAnswerTimeout"] = AnswerTimeout.ToString() },
            ct: Ct,
            configureSilo: b => b.Services.AddKeyedSingleton<IGrainStorage>(StorageNames.Subscribers,
                (services, _) => storage = new FailingGrainStorage(services.GetRequiredService<DeepCopier>())));
        var charon = await world.StartCharonAsync(ct: Ct);
        var (handset, events, attached) = await world.AttachAsync(Ct, c => c with { RefusalHoldDown = TimeSpan.FromSeconds(1) });
        try
        {
            // The subscriber's activation ends (as when the silo that held its directory entry dies) and storage refuses
            // writes: the next activation must reserve a new block of key transfer counters before it can seal anything.
            await world.Silo.Grains.GetGrain<ISubscriberGrain>(ProxiedWorld.Alice).Cast<IGrainManagementExtension>().DeactivateOnIdle(Ct);
            Assert.NotNull(storage);
            storage.FailWrites = true;

            var clock = Stopwatch.StartNew();
            Assert.Equal(HandsetPacketStatus.Held, handset.Send(Proxied.Udp(attached.Address, 40000, world.Peer, 7, "during the outage")).Status);
            var ended = await events.WaitAsync<HandsetEvent>(e => e is ProxyRefused or ProxyRequestTimedOut or SaInstalled,
                RequestRetryPolicy.Default.Budget + TimeSpan.FromSeconds(10), Ct);
            var answeredAfter = clock.Elapsed;
            output.WriteLine($"answered after {answeredAfter.TotalSeconds:F1} s: {ended}; {storage.WritesRefused} writes refused");

            // The edge's own refusal (nothing could be sealed), with the reason, before the handset gave up.
            var refused = Assert.IsType<ProxyRefused>(ended);
            Assert.True(refused.ByEdge, "the refusal came sealed, though nothing could be sealed");
            Assert.Equal(KeyProxyReason.Internal, refused.Reason);
            Assert.Contains("could not be handed over", refused.Text);
            Assert.True(answeredAfter >= AnswerTimeout - TimeSpan.FromSeconds(1) && answeredAfter < RequestRetryPolicy.Default.Budget,
                $"answered after {answeredAfter}, not by the network's deadline of {AnswerTimeout} within the handset's patience");
            Assert.True(storage.WritesRefused > 0, "the outage refused no write: the test did not test it");
            Assert.Empty(events.All<SaInstalled>());

            // The SA made with charon but never handed over is deleted there (RFC 7296 1.4.1).
            var deadline = Stopwatch.StartNew();
            IReadOnlyList<IkeSa> left;
            while ((left = [.. (await charon.ListSasAsync(Ct)).Where(sa => sa.IsEstablished)]).Count > 0 && deadline.Elapsed < TimeSpan.FromSeconds(10))
                await Task.Delay(200, Ct);
            Assert.True(left.Count == 0, $"charon still holds {left.Count} IKE SA(s) the handset never got\n{world.Describe()}");

            // Storage back: the handset's next request gets its SA and the echo comes back through it.
            storage.FailWrites = false;
            await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
            await world.EstablishFromHandsetAsync(handset, events, Ct);
        }
        catch (Exception) { output.WriteLine(world.Describe()); output.WriteLine("handset events:\n" + events); throw; }
    }
}
