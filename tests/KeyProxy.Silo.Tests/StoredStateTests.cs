using KeyProxy.Abstractions;
using KeyProxy.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;
using Orleans.Storage;

namespace KeyProxy.Silo.Tests;

/// <summary>The subscriber state survives the storage serializer the silo configures for Azure Table storage.</summary>
public sealed class StoredStateTests
{
    private static readonly OrleansGrainStorageSerializer Storage =
        new(new ServiceCollection().AddSerializer(b => b.AddAssembly(typeof(SubscriberState).Assembly).AddAssembly(typeof(SubscriberProfile).Assembly))
            .BuildServiceProvider().GetRequiredService<Serializer>());

    [Fact]
    public void A_stored_profile_round_trips_with_its_keys_and_attachment()
    {
        var (cert, key) = TestProfiles.SelfSigned();
        var profile = TestProfiles.Valid() with { Certificate = new IkeCertificateCredential(cert, key), TrustedCaPems = [cert] };
        var since = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var state = new SubscriberState
        {
            Profile = SubscriberGrain.Normalize(profile, 4),
            Attachment = new Attachment("edge-a", "127.0.0.42", 7, since),
            LastVersion = 4,
        };

        var copy = Storage.Deserialize<SubscriberState>(Storage.Serialize(state));
        Assert.NotNull(copy);

        Assert.Equal(4, copy.LastVersion);
        Assert.Equal(state.Attachment, copy.Attachment);
        var stored = copy.Profile!;
        Assert.Equal(4, stored.Version);
        Assert.Equal(profile.Secret, stored.Secret);
        Assert.Equal(profile.Conditions, stored.Conditions);
        Assert.Equal(profile.PreSharedKeys[0].Key, stored.PreSharedKeys[0].Key);
        Assert.Equal(profile.Certificate, stored.Certificate);
        Assert.Equal(profile.TrustedCaPems, stored.TrustedCaPems);
        Assert.Equal(profile.IkeProposals, stored.IkeProposals);
    }

    [Fact]
    public void Normalize_copies_lists_into_arrays_and_sets_the_version()
    {
        var profile = TestProfiles.Valid();
        var stored = SubscriberGrain.Normalize(profile, 9);
        Assert.Equal(9, stored.Version);
        Assert.IsType<ProxyCondition[]>(stored.Conditions);
        Assert.IsType<PeerPsk[]>(stored.PreSharedKeys);
        Assert.IsType<string[]>(stored.IkeProposals);
        Assert.NotSame(profile.Secret, stored.Secret);
        Assert.Equal(profile.Secret, stored.Secret);
    }
}
