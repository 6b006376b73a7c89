using KeyProxy.Abstractions;
using KeyProxy.Grains;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Storage;
using Orleans.TestingHost;

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

    [Fact]
    public async Task A_change_whose_write_loses_to_another_activations_write_merges_both_lists_instead_of_failing()
    {
        // Issue 15: a fresh cluster's grain directory can hold a second activation of the directory for a moment; its
        // whole-list write then met the first one's ETag, InconsistentStateException, and the provisioning PUT got 500.
        var directory = fixture.Grains.GetGrain<ISubscriberDirectoryGrain>(ISubscriberDirectoryGrain.Key);
        Assert.True(await directory.Add("merge-a@keyproxy.test"));

        // The other activation: reads the stored list, adds its NAI and writes, moving the ETag on.
        var storage = ((InProcessSiloHandle)fixture.Cluster.Primary!).SiloHost!.Services.GetRequiredKeyedService<IGrainStorage>(StorageNames.Directory);
        var other = new GrainState<SubscriberDirectoryState>();
        await storage.ReadStateAsync("directory", directory.GetGrainId(), other);
        var stored = other.State ?? throw new InvalidOperationException("the directory's list is not stored");
        stored.Nais.Add("merge-x@keyproxy.test");
        stored.Nais.Sort(StringComparer.Ordinal);
        await storage.WriteStateAsync("directory", directory.GetGrainId(), other);

        Assert.True(await directory.Add("merge-b@keyproxy.test"));
        Assert.True(await directory.Remove("merge-a@keyproxy.test"));

        string[] expected = ["merge-b@keyproxy.test", "merge-x@keyproxy.test"];
        Assert.Equal(expected, Merged((await directory.List(0, 100_000)).Nais));
        await DeactivateAsync(directory);
        Assert.Equal(expected, Merged((await directory.List(0, 100_000)).Nais));

        static string[] Merged(IEnumerable<string> nais) => nais.Where(n => n.StartsWith("merge-", StringComparison.Ordinal)).ToArray();
    }

    private async Task DeactivateAsync(ISubscriberDirectoryGrain directory)
    {
        await directory.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var management = fixture.Grains.GetGrain<IManagementGrain>(0);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await management.GetGrainActivationCount((GrainReference)directory) > 0 && DateTime.UtcNow < deadline) await Task.Delay(50);
    }
}
