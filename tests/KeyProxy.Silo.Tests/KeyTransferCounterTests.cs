using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using KeyProxy.Abstractions;
using KeyProxy.Edge;
using KeyProxy.Grains;
using KeyProxy.Testing;
using KeyProxy.Wire;
using KeyProxy.Wire.Access;
using KeyProxy.Wire.Proxy;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Serialization;
using Orleans.Storage;
using Orleans.TestingHost;

namespace KeyProxy.Silo.Tests;

/// <summary>
/// Issue 15, no key transfer delivered twice: the key transfer counter of an attachment never repeats, also when the
/// storage that holds its reservation fails. Found by the storage outage fault test: a reservation whose write failed
/// stayed in memory, the next seals used its counters, and the next activation, resuming from the stored reservation,
/// sealed them again (the handset rejected "counter 1026 already seen").
/// </summary>
public sealed class KeyTransferCounterTests : IAsyncLifetime
{
    private const string Edge = "edge-nobody-runs";
    private const uint Tunnel = 9;

    private readonly TestCluster _cluster = new TestClusterBuilder(1).AddSiloBuilderConfigurator<FailingGrainStorage.SiloWithIt>().Build();

    public async ValueTask InitializeAsync() => await _cluster.DeployAsync();

    public async ValueTask DisposeAsync()
    {
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task A_counter_block_whose_reservation_was_not_stored_is_never_used_so_a_reactivation_repeats_no_counter()
    {
        const string nai = "fay@keyproxy.test";
        var grains = _cluster.GrainFactory;
        var subscriber = await AttachedSubscriber.AttachAsync(grains, nai, Edge, Tunnel, "127.0.1.9", _cluster.Primary!.SiloAddress);

        var content = new byte[new SaDelete(SaDeleteReason.IkeSaClosed, [0x1234]).GetEncodedLength()];
        Assert.Equal(WireError.None, new SaDelete(SaDeleteReason.IkeSaClosed, [0x1234]).TryWrite(content, out _));
        var session = Guid.NewGuid();
        var counters = new List<ulong>();
        async Task<bool> SealAsync()
        {
            try
            {
                var sealedMessage = await subscriber.SealKeyTransfer(session, Tunnel, content, null);
                Assert.NotNull(sealedMessage);
                counters.Add(BinaryPrimitives.ReadUInt64BigEndian(sealedMessage.AsSpan(KeyProxyHeader.Size, KeyTransfer.CounterSize)));
                return true;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                return false;
            }
        }

        // The attach reserved the first block; its counters need no write.
        while (counters.Count < 1023) Assert.True(await SealAsync());

        // The storage fails: the seal that needs the next block fails, and so does every seal after it while the
        // reservation is not stored (before the fix the second one went through on the unstored block).
        Storage.FailWrites = true;
        Assert.False(await SealAsync());
        Assert.False(await SealAsync());

        // Storage back: sealing goes on, and after a reactivation (the grain resumes from the stored reservation) too.
        Storage.FailWrites = false;
        Assert.True(await SealAsync());
        await subscriber.Cast<IGrainManagementExtension>().DeactivateOnIdle(TestContext.Current.CancellationToken);
        Assert.True(await SealAsync());

        for (int i = 1; i < counters.Count; i++)
            Assert.True(counters[i] > counters[i - 1], $"counter {counters[i]} sealed after {counters[i - 1]}: a key transfer counter repeated or went back");
    }

    [Fact]
    public async Task Counters_granted_to_sessions_and_counters_the_subscriber_seals_with_never_repeat_also_across_a_reactivation()
    {
        // Issue 17: a session seals its first key transfer itself with a counter the subscriber granted at BeginSession.
        const string nai = "gil@keyproxy.test";
        const string peer = "192.0.2.7"; // inside the test profile's PSK prefix
        var grains = _cluster.GrainFactory;
        var subscriber = await AttachedSubscriber.AttachAsync(grains, nai, Edge, Tunnel, "127.0.1.10", _cluster.Primary!.SiloAddress);
        var content = new byte[new SaDelete(SaDeleteReason.IkeSaClosed, [0x1234]).GetEncodedLength()];
        Assert.Equal(WireError.None, new SaDelete(SaDeleteReason.IkeSaClosed, [0x1234]).TryWrite(content, out _));
        var counters = new List<ulong>();
        byte[]? deliveryKey = null;
        async Task SealAsync()
        {
            var sealedMessage = await subscriber.SealKeyTransfer(Guid.NewGuid(), Tunnel, content, null);
            Assert.NotNull(sealedMessage);
            counters.Add(BinaryPrimitives.ReadUInt64BigEndian(sealedMessage.AsSpan(KeyProxyHeader.Size, KeyTransfer.CounterSize)));
            // What the subscriber seals opens with the key it grants: the attachment's delivery key.
            using var opener = new KeyTransferOpener(deliveryKey!);
            Assert.Equal(KeyTransferStatus.Ok, opener.Open(sealedMessage).Status);
        }
        async Task<KeyTransferGrant?> BeginAsync(uint tunnel = Tunnel)
        {
            var credentials = await subscriber.BeginSession(Guid.NewGuid(), tunnel, peer, 0x4000);
            Assert.NotNull(credentials);
            if (credentials.Grant is { } grant)
            {
                deliveryKey ??= grant.DeliveryKey;
                Assert.Equal(deliveryKey, grant.DeliveryKey);
                counters.Add(grant.Counter);
            }
            return credentials.Grant;
        }

        // No grant for another attachment than the current one.
        Assert.Null(await BeginAsync(Tunnel + 1));
        Assert.NotNull(await BeginAsync());
        await SealAsync();
        // Grants stay within half the handset's replay window of each other: 32 in a row, then the subscriber seals.
        int granted = 1;
        while (await BeginAsync() is not null) granted++;
        Assert.Equal(31, granted); // counters 1 to 32, less the one the seal in between took
        await SealAsync();

        // After a reactivation the first grant waits for a reservation the subscriber writes when it seals; then grants resume above it.
        await subscriber.Cast<IGrainManagementExtension>().DeactivateOnIdle(TestContext.Current.CancellationToken);
        await Task.Delay(200, TestContext.Current.CancellationToken);
        Assert.Null(await BeginAsync());
        await SealAsync();
        Assert.NotNull(await BeginAsync());
        await SealAsync();

        for (int i = 1; i < counters.Count; i++)
            Assert.True(counters[i] > counters[i - 1], $"counter {counters[i]} after {counters[i - 1]}: a key transfer counter repeated or went back");
    }

    private FailingGrainStorage Storage => FailingGrainStorage.Of(_cluster);
}
