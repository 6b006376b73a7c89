using KeyProxy.Abstractions;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;

namespace KeyProxy.Silo.Tests;

/// <summary>GrainReferences gives the same references as GetGrain, without its per-call interface lookup.</summary>
[Collection(SiloHostCollection.Name)]
public sealed class GrainReferencesTests(SiloHostFixture host)
{
    private IGrainFactory Grains => host.Services.GetRequiredService<IGrainFactory>();

    [Fact]
    public async Task A_guid_keyed_reference_is_the_one_GetGrain_gives_and_reaches_its_grain()
    {
        foreach (var key in new[] { Guid.NewGuid(), Guid.NewGuid() })
        {
            var expected = (GrainReference)(object)Grains.GetGrain<IProxySessionGrain>(key);
            var reference = Grains.Reference<IProxySessionGrain>(key);
            var actual = (GrainReference)(object)reference;
            Assert.Equal(expected.GrainId, actual.GrainId);
            Assert.Equal(expected.InterfaceType, actual.InterfaceType);
            Assert.Equal(key, reference.GetPrimaryKey());
            Assert.Null(await reference.GetInfo());
        }
    }

    [Fact]
    public async Task A_string_keyed_reference_is_the_one_GetGrain_gives_and_reaches_its_grain()
    {
        foreach (var key in new[] { "nobody@keyproxy.test", "nobody+2@keyproxy.test" })
        {
            var expected = (GrainReference)(object)Grains.GetGrain<ISubscriberGrain>(key);
            var reference = Grains.Reference<ISubscriberGrain>(key);
            var actual = (GrainReference)(object)reference;
            Assert.Equal(expected.GrainId, actual.GrainId);
            Assert.Equal(expected.InterfaceType, actual.InterfaceType);
            Assert.Equal(key, reference.GetPrimaryKeyString());
            Assert.Null(await reference.GetProfile());
        }
    }
}
