using KeyProxy.Abstractions;
using Orleans.Core.Internal;

namespace KeyProxy.Silo.Tests;

/// <summary>The directory's group commit: concurrent changes share whole-list writes and every one of them is stored.</summary>
public sealed class SubscriberDirectoryGroupCommitTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    [Fact]
    public async Task Concurrent_adds_and_removes_all_complete_and_survive_a_reactivation()
    {
        var directory = fixture.Grains.GetGrain<ISubscriberDirectoryGrain>(ISubscriberDirectoryGrain.Key);
        var nais = Enumerable.Range(0, 300).Select(i => $"group-commit-{i:D3}@keyproxy.test").ToArray();
        Assert.All(await Task.WhenAll(nais.Select(directory.Add)), Assert.True);
        // Half go again, while the other half is added a second time (no change, no write).
        var removed = await Task.WhenAll(nais.Where((_, i) => i % 2 == 0).Select(directory.Remove));
        var again = await Task.WhenAll(nais.Where((_, i) => i % 2 == 1).Select(directory.Add));
        Assert.All(removed, Assert.True);
        Assert.All(again, Assert.False);

        await DeactivateAsync(directory);

        var listed = (await directory.List(0, 100_000)).Nais.Where(n => n.StartsWith("group-commit-", StringComparison.Ordinal)).ToList();
        Assert.Equal(nais.Where((_, i) => i % 2 == 1), listed);
    }

    private async Task DeactivateAsync(ISubscriberDirectoryGrain directory)
    {
        await directory.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var management = fixture.Grains.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await management.GetGrainActivationCount((GrainReference)directory) > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
    }
}
